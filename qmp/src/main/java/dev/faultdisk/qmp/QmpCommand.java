package dev.faultdisk.qmp;

import dev.faultdisk.wire.json.Members;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * A command: its name, its documentation (for a generated reference), its declared arguments
 * (checked before the handler runs) and the handler.
 *
 * @param name      as sent in {@code "execute"}, QEMU style: lower case words joined by '-'
 * @param doc       what the command does, a short paragraph
 * @param arguments declared arguments; any other argument is rejected as unexpected
 * @param returns   what {@code "return"} holds, for documentation ("" for {@code {}})
 * @param examples  example exchanges for documentation ("-> ..." and "<- ..." lines)
 * @param handler   runs the command
 */
public record QmpCommand(
        String name, String doc, List<Argument> arguments, String returns, List<String> examples, Handler handler) {
    private static final Pattern NAME = Pattern.compile("[A-Za-z0-9_][A-Za-z0-9_.-]*");

    /**
     * Runs a command whose declared arguments have been checked. Returns the value of {@code
     * "return"}: a map, list, string, number, boolean or {@link dev.faultdisk.wire.json.JsonConvertible};
     * null means {@code {}}. Throws {@link QmpError} to fail. Handlers run on the sending
     * session's thread and may run concurrently for different sessions.
     */
    @FunctionalInterface
    public interface Handler {
        Object handle(Members args);
    }

    public QmpCommand {
        if (name == null || !NAME.matcher(name).matches()) {
            throw new IllegalArgumentException("bad command name: " + name);
        }
        if (doc == null || returns == null || handler == null) {
            throw new IllegalArgumentException("command " + name + " needs a doc, a returns text and a handler");
        }
        arguments = List.copyOf(arguments);
        examples = List.copyOf(examples);
        Set<String> seen = new HashSet<>();
        for (Argument argument : arguments) {
            if (!seen.add(argument.name())) {
                throw new IllegalArgumentException("command " + name + " declares " + argument.name() + " twice");
            }
        }
    }

    public static Builder builder(String name) {
        return new Builder(name);
    }

    /** Checks the declared arguments in order, then rejects undeclared ones, as QEMU does. */
    void checkArguments(Members args) {
        List<String> names = new ArrayList<>(arguments.size());
        for (Argument argument : arguments) {
            names.add(argument.name());
            if (!args.has(argument.name())) {
                if (!argument.optional()) {
                    throw QmpError.missingParameter(args.fullName(argument.name()));
                }
                continue;
            }
            argument.type().check(args, argument);
        }
        args.rejectUnknown(names);
    }

    public static final class Builder {
        private final String name;
        private String doc = "";
        private final List<Argument> arguments = new ArrayList<>();
        private String returns = "";
        private final List<String> examples = new ArrayList<>();
        private Handler handler;

        private Builder(String name) {
            this.name = name;
        }

        /** The command's prose; a line break is a space, so a text block may hold it. */
        public Builder doc(String doc) {
            this.doc = doc.replace('\n', ' ');
            return this;
        }

        public Builder argument(Argument argument) {
            arguments.add(argument);
            return this;
        }

        public Builder required(String name, ArgType type, String doc) {
            return argument(Argument.required(name, type, doc));
        }

        public Builder optional(String name, ArgType type, String doc) {
            return argument(Argument.optional(name, type, doc));
        }

        /** A required JSON array whose documented type is {@code [itemType]}. */
        public Builder requiredList(String name, String itemType, String doc) {
            return argument(Argument.required(name, ArgType.LIST, doc).withTypeName("[" + itemType + "]"));
        }

        /** An optional JSON array whose documented type is {@code [itemType]}. */
        public Builder optionalList(String name, String itemType, String doc) {
            return argument(Argument.optional(name, ArgType.LIST, doc).withTypeName("[" + itemType + "]"));
        }

        public Builder returns(String returns) {
            this.returns = returns;
            return this;
        }

        public Builder example(String example) {
            examples.add(example);
            return this;
        }

        public Builder handler(Handler handler) {
            this.handler = handler;
            return this;
        }

        public QmpCommand build() {
            return new QmpCommand(name, doc, arguments, returns, examples, handler);
        }
    }
}
