package dev.faultdisk.qmp;

import dev.faultdisk.wire.json.Members;

/**
 * The JSON type a declared argument must have. The registry checks declared arguments before a
 * handler runs, so a handler can read them without further checks and a bad call has no side
 * effect. {@link #schemaName()} is the QAPI spelling used in documentation.
 */
public enum ArgType {
    STRING("str"),
    INT("int"),
    /** true/false, or the integers 1 and 0. */
    BOOL("bool"),
    NUMBER("number"),
    /** A string out of {@link Argument#values()}. */
    ENUM("enum"),
    OBJECT("object"),
    LIST("array"),
    ANY("any");

    private final String schemaName;

    ArgType(String schemaName) {
        this.schemaName = schemaName;
    }

    public String schemaName() {
        return schemaName;
    }

    /** Throws the QEMU-worded error if {@code args} holds a value of the wrong type for {@code arg}. */
    void check(Members args, Argument arg) {
        String name = arg.name();
        switch (this) {
            case STRING -> args.string(name);
            case INT -> args.integer(name);
            case BOOL -> args.bool(name);
            case NUMBER -> args.number(name);
            case ENUM -> args.choice(name, arg.values());
            case OBJECT -> args.object(name);
            case LIST -> args.list(name);
            case ANY -> args.any(name);
        }
    }
}
