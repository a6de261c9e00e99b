package dev.faultdisk.client;

import dev.faultdisk.wire.json.Members;

/**
 * The export {@code export-add} added, as the server opened it.
 *
 * @param description what backs it and the layers over it
 */
public record ExportAdded(String name, long size, boolean readOnly, String description) {

    /** From the JSON form. */
    public static ExportAdded from(Object value) {
        Members m = Replies.object(value, "export-add reply");
        return new ExportAdded(m.string("name"), m.integer("size"), m.bool("read-only"), m.string("description"));
    }
}
