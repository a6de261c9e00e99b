package dev.faultdisk.qmp;

import java.util.List;

/**
 * One declared argument of a command: what the registry checks and what documentation shows.
 *
 * @param name     the member name in {@code "arguments"}
 * @param type     the JSON type checked before the handler runs
 * @param optional whether it may be absent
 * @param doc      one or two sentences for the reference
 * @param values   the accepted strings of an {@link ArgType#ENUM} (empty otherwise)
 * @param typeName the type as documentation prints it, e.g. {@code [BlkdebugRule]}
 */
public record Argument(String name, ArgType type, boolean optional, String doc, List<String> values, String typeName) {
    public Argument {
        if (name == null || name.isEmpty()) {
            throw new IllegalArgumentException("argument name is empty");
        }
        if (type == null || doc == null) {
            throw new IllegalArgumentException("argument " + name + " needs a type and a doc");
        }
        values = List.copyOf(values);
        if ((type == ArgType.ENUM) == values.isEmpty()) {
            throw new IllegalArgumentException(
                    "argument " + name + ": values are for ENUM arguments only, and required there");
        }
        if (typeName == null || typeName.isEmpty()) {
            typeName = type == ArgType.ENUM ? String.join("|", values) : type.schemaName();
        }
    }

    public static Argument required(String name, ArgType type, String doc) {
        return new Argument(name, type, false, doc, List.of(), null);
    }

    public static Argument optional(String name, ArgType type, String doc) {
        return new Argument(name, type, true, doc, List.of(), null);
    }

    /** A string argument limited to {@code values}. */
    public static Argument enumeration(String name, boolean optional, String doc, List<String> values) {
        return new Argument(name, ArgType.ENUM, optional, doc, values, null);
    }

    /** The same argument with the type shown differently in documentation. */
    public Argument withTypeName(String typeName) {
        return new Argument(name, type, optional, doc, values, typeName);
    }
}
