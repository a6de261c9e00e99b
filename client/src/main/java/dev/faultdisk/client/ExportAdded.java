package dev.faultdisk.client;

/**
 * The export {@code export-add} added, as the server opened it.
 *
 * @param description what backs it and the layers over it
 */
public record ExportAdded(String name, long size, boolean readOnly, String description) {

    /** From the JSON form. */
    public static ExportAdded from(Object value) {
        return ReplyRecord.read(ExportAdded.class, value, "export-add reply");
    }
}
