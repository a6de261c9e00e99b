package dev.faultdisk.client;

import dev.faultdisk.wire.json.Members;

/**
 * A request a hang rule or a trigger holds, as {@code query-held-requests} lists it.
 *
 * @param device     the export
 * @param id         the held request's id, for {@code fault-release}
 * @param rule       the hang rule's id, or 0 if a trigger holds it
 * @param trigger    the trigger's id, or 0 if a hang rule holds it
 * @param operation  e.g. {@code read}
 * @param offset     byte offset
 * @param length     bytes
 * @param connection the NBD connection, or -1 if unknown
 * @param since      when it was held (ISO-8601)
 */
public record HeldRequest(
        String device,
        long id,
        long rule,
        long trigger,
        String operation,
        long offset,
        long length,
        long connection,
        String since) {

    static HeldRequest from(Object value) {
        Members m = Replies.object(value, "query-held-requests entry");
        return new HeldRequest(
                m.string("device"),
                m.integer("id"),
                m.integer("rule"),
                m.integer("trigger", 0),
                m.string("operation"),
                m.integer("offset"),
                m.integer("length"),
                m.integer("connection", -1),
                m.string("since", ""));
    }
}
