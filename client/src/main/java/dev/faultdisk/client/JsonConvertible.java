package dev.faultdisk.client;

/** A value with a JSON form: {@link Json#write} writes {@link #toJson()} in its place. */
public interface JsonConvertible {
    /** A value {@link Json#write} accepts: a map, list, string, number, boolean or null. */
    Object toJson();
}
