package dev.faultdisk.client;

import dev.faultdisk.client.ReplyRecord.Absent;
import java.util.Map;

/**
 * One export as {@code query-block} lists it.
 *
 * @param device      the export's name
 * @param size        size in bytes
 * @param readOnly    whether clients may write
 * @param backing     what backs it, e.g. {@code memory} or an image path
 * @param description the export's device stack, for people
 * @param connections NBD connections open now
 * @param uri         its NBD URI for a client on the server's host (empty from a server that
 *                    does not say)
 * @param raw         the whole entry, for members not typed here
 */
public record BlockInfo(
        String device,
        long size,
        boolean readOnly,
        @Absent("") String backing,
        @Absent("") String description,
        @Absent("0") long connections,
        @Absent("") String uri,
        Map<String, Object> raw) {

    static BlockInfo from(Object value) {
        return ReplyRecord.read(BlockInfo.class, value, "query-block entry");
    }
}
