package dev.faultdisk.wire.json;

/**
 * Bounds on one JSON message, so that a client cannot make the server buffer or recurse without
 * end. A message that exceeds one is dropped with QEMU's error text for it.
 *
 * @param maxMessageBytes bytes of tokens in one message (and so also of one token)
 * @param maxTokens       tokens in one message
 * @param maxNesting      open objects plus open arrays at any point
 */
public record JsonLimits(int maxMessageBytes, int maxTokens, int maxNesting) {
    /** The deepest nesting a limit may allow. */
    public static final int MAX_NESTING = 4096;

    /** Generous for a control protocol (thousands of rules per command), small enough for many sessions. */
    public static final JsonLimits DEFAULT = new JsonLimits(4 << 20, 256 << 10, 1024);

    /** QEMU's own limits (64 MiB, 2 Mi tokens, depth 1024). */
    public static final JsonLimits QEMU = new JsonLimits(64 << 20, 2 << 20, 1024);

    public JsonLimits {
        if (maxMessageBytes < 16 || maxTokens < 1 || maxNesting < 1) {
            throw new IllegalArgumentException(
                    "limits too small: " + maxMessageBytes + ", " + maxTokens + ", " + maxNesting);
        }
        if (maxNesting > MAX_NESTING) {
            // The parser recurses once per level.
            throw new IllegalArgumentException("nesting limit above " + MAX_NESTING + ": " + maxNesting);
        }
    }
}
