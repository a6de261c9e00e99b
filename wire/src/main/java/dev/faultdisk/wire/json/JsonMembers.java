package dev.faultdisk.wire.json;

/**
 * A JSON object written member by member, without a map: for values written often (a QMP event
 * per delayed read), whose maps, entries and boxed numbers would be garbage as soon as written.
 * {@link Json#write} writes it as an object, in the order the members are given.
 */
@FunctionalInterface
public interface JsonMembers {

    /** Gives each member to {@code out}, in order. */
    void writeMembers(Sink out);

    /** Takes members: a JSON writer, or a map being filled. */
    @FunctionalInterface
    interface Sink {
        /** A member whose value is anything {@link Json#write} takes. */
        void member(String name, Object value);

        /** A number member; a writer writes it without boxing. */
        default void member(String name, long value) {
            member(name, (Object) value);
        }
    }
}
