package dev.faultdisk.qmp;

import dev.faultdisk.wire.json.Json;
import dev.faultdisk.wire.json.Members;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * The commands a {@link QmpServer} offers, in registration order. Starts with the built-ins
 * {@code qmp_capabilities}, {@code query-version} and {@code query-commands}; other modules add
 * theirs with {@link #register}. Introspectable ({@link #commands()}) so a reference can be
 * generated from it. Thread-safe: registration may happen while sessions run.
 */
public final class CommandRegistry {
    static final String CAPABILITIES = "qmp_capabilities";

    private final QmpVersion version;
    private volatile Map<String, QmpCommand> commands = Map.of();

    public CommandRegistry() {
        this(QmpVersion.DEFAULT);
    }

    public CommandRegistry(QmpVersion version) {
        this.version = version;
        register(capabilities());
        register(QmpCommand.builder("query-version")
                .doc("""
                        Returns the version of the server: the "qemu" triple holds faultdisk's version numbers and
                        "package" names the program.""")
                .returns("{\"qemu\": {\"micro\": int, \"minor\": int, \"major\": int}, \"package\": str}")
                .example("-> {\"execute\": \"query-version\"}")
                .example("<- {\"return\": " + Json.write(version.toJson()) + "}")
                .handler(args -> version.toJson())
                .build());
        register(QmpCommand.builder("query-commands")
                .doc("Lists every command the server offers once capabilities are negotiated.")
                .returns("[{\"name\": str}, ...]")
                .example("-> {\"execute\": \"query-commands\"}")
                .example("<- {\"return\": [{\"name\": \"qmp_capabilities\"}, {\"name\": \"query-version\"}, ...]}")
                .handler(args -> queryCommands())
                .build());
    }

    public QmpVersion version() {
        return version;
    }

    /**
     * Adds a command.
     *
     * @throws IllegalArgumentException if a command of that name exists
     */
    public synchronized QmpCommand register(QmpCommand command) {
        if (commands.containsKey(command.name())) {
            throw new IllegalArgumentException("command " + command.name() + " is already registered");
        }
        Map<String, QmpCommand> copy = new LinkedHashMap<>(commands);
        copy.put(command.name(), command);
        commands = Collections.unmodifiableMap(copy);
        return command;
    }

    public Optional<QmpCommand> find(String name) {
        return Optional.ofNullable(commands.get(name));
    }

    /** Every command, built-ins first, then in registration order. */
    public List<QmpCommand> commands() {
        return List.copyOf(commands.values());
    }

    public Set<String> names() {
        return commands.keySet();
    }

    /**
     * Runs a command in-process, outside any session: arguments are checked as for a client.
     *
     * @throws QmpError as a client would see it (CommandNotFound for an unknown name)
     */
    public Object invoke(String name, Map<String, ?> arguments) {
        QmpCommand command = find(name).orElseThrow(() -> QmpError.commandNotFound(name, names()));
        return execute(command, QmpArguments.of(arguments), null);
    }

    /**
     * Checks that a command exists and takes these arguments (names and types), without running it.
     *
     * @throws QmpError as a client would see it
     */
    public void check(String name, Map<String, ?> arguments) {
        find(name)
                .orElseThrow(() -> QmpError.commandNotFound(name, names()))
                .checkArguments(QmpArguments.of(arguments));
    }

    /**
     * What a command's reply would be in a session, for a caller outside any (the HTTP API): the
     * same checks, the same {@code return} or {@code error} object, never an exception.
     *
     * @param error the error class of a failed command, or null
     * @param json  the reply as QMP sends it, without an id
     */
    public record Reply(ErrorClass error, String json) {}

    /** Runs {@code name} as {@link #invoke} does and answers as a session would (see {@link Reply}). */
    public Reply respond(String name, Map<String, ?> arguments) {
        return Dispatcher.respond(this, name, arguments);
    }

    /** Checks the declared arguments, then runs the command for {@code session} (null: in-process). */
    Object execute(QmpCommand command, Members args, QmpSession session) {
        command.checkArguments(args);
        if (command.name().equals(CAPABILITIES)) {
            return negotiate(args, session); // the one command about the session itself
        }
        return command.handler().handle(args);
    }

    private List<Map<String, Object>> queryCommands() {
        List<Map<String, Object>> list = new ArrayList<>();
        for (String name : commands.keySet()) {
            list.add(Map.of("name", name));
        }
        return list;
    }

    private static QmpCommand capabilities() {
        return QmpCommand.builder(CAPABILITIES)
                .doc("""
                        Leaves capabilities negotiation mode: until a session sends it, every other command fails with
                        CommandNotFound and no events are delivered. The greeting lists no optional capabilities, so
                        "enable" may only be empty.""")
                .optional(
                        "enable", ArgType.LIST, "capabilities to enable (the greeting offers none; QEMU's is \"oob\")")
                .returns("{}")
                .example("-> {\"execute\": \"qmp_capabilities\"}")
                .example("<- {\"return\": {}}")
                .handler(args -> negotiate(args, null))
                .build();
    }

    private static Object negotiate(Members args, QmpSession session) {
        List<String> enable = args.has("enable") ? args.strings("enable") : List.of();
        for (int i = 0; i < enable.size(); i++) {
            if (!enable.get(i).equals("oob")) {
                throw QmpError.invalidEnumValue("enable[" + i + "]", enable.get(i));
            }
        }
        if (session == null) {
            throw QmpError.generic("qmp_capabilities needs a QMP session");
        }
        if (session.isNegotiated()) {
            throw new QmpError(
                    ErrorClass.COMMAND_NOT_FOUND, "Capabilities negotiation is already complete, command ignored");
        }
        if (!enable.isEmpty()) {
            // Out-of-band execution is not offered, so no capability can be enabled.
            throw QmpError.generic("Capability %s not available", String.join(", ", enable));
        }
        session.negotiate();
        return null;
    }
}
