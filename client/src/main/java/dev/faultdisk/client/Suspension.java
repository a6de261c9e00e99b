package dev.faultdisk.client;

import dev.faultdisk.wire.json.Members;

/**
 * A request held at a breakpoint, as {@code BLKDEBUG_SUSPENDED} and
 * {@code query-blkdebug-breakpoints} describe it.
 *
 * @param operation the request, e.g. {@code read}, {@code write}, {@code write-fua}, {@code flush}, {@code trim}, {@code write-zeroes}
 * @param offset    byte offset of the request
 * @param length    byte length of the request
 */
public record Suspension(String device, String tag, String event, String operation, long offset, long length) {

    static Suspension from(Members m, String device) {
        return new Suspension(
                m.string("device", device),
                m.string("tag"),
                m.string("event"),
                m.string("operation"),
                m.integer("offset"),
                m.integer("length"));
    }

    /** From a {@code BLKDEBUG_SUSPENDED} or {@code BLKDEBUG_RESUMED} event. */
    public static Suspension from(Event event) {
        return from(Replies.object(event.data(), "event data"), null);
    }
}
