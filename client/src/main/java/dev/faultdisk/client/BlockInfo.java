package dev.faultdisk.client;

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
 * @param raw         the whole entry, for members not typed here
 */
public record BlockInfo(String device, long size, boolean readOnly, String backing, String description,
                        long connections, Map<String, Object> raw) {

    static BlockInfo from(Object value) {
        Map<String, Object> m = Values.object(value, "query-block entry");
        return new BlockInfo(Values.string(m, "device"), Values.integer(m, "size"), Values.bool(m, "read-only"),
                Values.string(m, "backing", ""), Values.string(m, "description", ""),
                Values.integer(m, "connections", 0), m);
    }
}
