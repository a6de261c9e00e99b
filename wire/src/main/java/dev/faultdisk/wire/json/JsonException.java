package dev.faultdisk.wire.json;

/** Text that is not the JSON expected, or a value that has no JSON form. */
public final class JsonException extends IllegalArgumentException {
    public JsonException(String message) {
        super(message);
    }
}
