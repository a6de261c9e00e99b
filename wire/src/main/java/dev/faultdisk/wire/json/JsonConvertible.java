package dev.faultdisk.wire.json;

/**
 * A value that knows its JSON form: {@link Json#write} calls {@link #toJson()} and writes what it
 * returns (a map, list, string, number, boolean, null or another convertible).
 */
public interface JsonConvertible {
    Object toJson();
}
