package dev.faultdisk.client;

import dev.faultdisk.client.ReplyRecord.Absent;

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
        @Absent("0") long trigger,
        String operation,
        long offset,
        long length,
        @Absent("-1") long connection,
        @Absent("") String since) {

    static HeldRequest from(Object value) {
        return ReplyRecord.read(HeldRequest.class, value, "query-held-requests entry");
    }
}
