package dev.faultdisk.qmp;

import dev.faultdisk.wire.json.Json;
import dev.faultdisk.wire.json.JsonException;
import java.lang.System.Logger.Level;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Turns one parsed request into the JSON text of its response, with QEMU's checks and wording:
 * the request must be an object whose members are only {@code execute} (a string), {@code
 * arguments} (an object) and {@code id} (anything, echoed); before negotiation every command but
 * {@code qmp_capabilities} is CommandNotFound with the negotiation hint.
 */
final class Dispatcher {
    private static final System.Logger LOG = System.getLogger(Dispatcher.class.getName());
    /** The argument of qmp_capabilities that carries the shared secret. */
    static final String SECRET = "secret";

    static final String NEGOTIATION_EXPECTED = "Expecting capabilities negotiation with 'qmp_capabilities'";

    private final CommandRegistry registry;

    Dispatcher(CommandRegistry registry) {
        this.registry = registry;
    }

    String dispatch(Object request, QmpSession session) {
        if (!(request instanceof Map<?, ?> map)) {
            return Json.write(Messages.error(ErrorClass.GENERIC_ERROR, "QMP input must be a JSON object", false, null));
        }
        boolean hasId = map.containsKey("id");
        Object id = map.get("id");
        boolean negotiating = !session.isNegotiated();
        try {
            String name = checkRequest(map);
            QmpCommand command = lookup(name, negotiating);
            Object arguments = map.get("arguments");
            Map<String, Object> values = new LinkedHashMap<>();
            if (arguments instanceof Map<?, ?> given) {
                given.forEach((k, v) -> values.put((String) k, v));
            }
            if (session.needsSecret()) {
                checkSecret(values.remove(SECRET), session);
            }
            Object result = registry.execute(command, QmpArguments.of(values), session);
            try {
                return Json.write(Messages.success(result, hasId, id));
            } catch (JsonException e) {
                LOG.log(Level.WARNING, "command {0} returned a value with no JSON form: {1}", name, e.getMessage());
                throw QmpError.generic("Internal error: the result of %s could not be encoded", name);
            }
        } catch (QmpError e) {
            String desc = e.desc();
            if (negotiating && e.errorClass() == ErrorClass.COMMAND_NOT_FOUND) {
                desc = NEGOTIATION_EXPECTED; // QEMU's more useful hint for this mode
            }
            return Json.write(Messages.error(e.errorClass(), desc, hasId, id));
        } catch (RuntimeException e) {
            LOG.log(Level.WARNING, "command failed unexpectedly", e);
            return Json.write(Messages.error(ErrorClass.GENERIC_ERROR, "Internal error: " + e, hasId, id));
        }
    }

    /** A command run outside a session: the reply a session would get, as {@link CommandRegistry#respond}. */
    static CommandRegistry.Reply respond(CommandRegistry registry, String name, Map<String, ?> arguments) {
        try {
            Object result = registry.invoke(name, arguments);
            try {
                return new CommandRegistry.Reply(null, Json.write(Messages.success(result, false, null)));
            } catch (JsonException e) {
                LOG.log(Level.WARNING, "command {0} returned a value with no JSON form: {1}", name, e.getMessage());
                throw QmpError.generic("Internal error: the result of %s could not be encoded", name);
            }
        } catch (QmpError e) {
            return new CommandRegistry.Reply(
                    e.errorClass(), Json.write(Messages.error(e.errorClass(), e.desc(), false, null)));
        } catch (RuntimeException e) {
            LOG.log(Level.WARNING, "command failed unexpectedly", e);
            return new CommandRegistry.Reply(
                    ErrorClass.GENERIC_ERROR,
                    Json.write(Messages.error(ErrorClass.GENERIC_ERROR, "Internal error: " + e, false, null)));
        }
    }

    /**
     * The shared-secret check, this project's addition to QMP: a server with a secret takes
     * {@code qmp_capabilities} only with {@code "secret"} among its arguments; a wrong or missing
     * one gets an error and the session ends.
     */
    private static void checkSecret(Object given, QmpSession session) {
        if (!session.endpoint().secretMatches(given instanceof String s ? s : null)) {
            session.rejectAfterReply();
            LOG.log(
                    Level.WARNING,
                    "QMP session {0} ({1}): wrong or missing secret; closing it",
                    Long.toString(session.id()), // not MessageFormat's "1,000"
                    session.remoteAddress());
            throw QmpError.generic(
                    "this QMP server requires a shared secret: qmp_capabilities needs the argument 'secret'"
                            + " with the right value");
        }
    }

    /** Returns the command name, or throws with QEMU's text for the first bad member. */
    private static String checkRequest(Map<?, ?> map) {
        String name = null;
        for (Map.Entry<?, ?> entry : map.entrySet()) {
            String member = (String) entry.getKey();
            Object value = entry.getValue();
            switch (member) {
                case "execute" -> {
                    if (!(value instanceof String s)) {
                        throw QmpError.generic("QMP input member 'execute' must be a string");
                    }
                    name = s;
                }
                case "arguments" -> {
                    if (!(value instanceof Map<?, ?>)) {
                        throw QmpError.generic("QMP input member 'arguments' must be an object");
                    }
                }
                case "id" -> {}
                // exec-oob is unexpected too: out-of-band execution is not offered.
                default -> throw QmpError.generic("QMP input member '%s' is unexpected", member);
            }
        }
        if (name == null) {
            throw QmpError.generic("QMP input lacks member 'execute'");
        }
        return name;
    }

    private QmpCommand lookup(String name, boolean negotiating) {
        if (negotiating && !name.equals(CommandRegistry.CAPABILITIES)) {
            throw QmpError.commandNotFound(name);
        }
        return registry.find(name).orElseThrow(() -> QmpError.commandNotFound(name, registry.names()));
    }
}
