package dev.faultdisk.client;

/**
 * What {@code export-remove} did before it closed the export.
 *
 * @param connections NBD connections closed (each answered what it had read first)
 * @param heldFailed requests held by fault rules, failed with ESHUTDOWN
 * @param suspendedReleased requests held at breakpoints, let go on
 */
public record ExportRemoved(long connections, long heldFailed, long suspendedReleased) {

    /** From the JSON form. */
    public static ExportRemoved from(Object value) {
        return ReplyRecord.read(ExportRemoved.class, value, "export-remove reply");
    }
}
