package dev.faultdisk.wire.history;

/**
 * One entry of a recorded history (see {@link HistoryFormat}): what one request did, or a flush
 * beginning or ending, or a label. Entries are numbered from 0 in the order the recorder logged
 * them: a write, trim or write-zeroes when it completed, a flush once when it began and once when
 * it completed.
 *
 * @param index the entry's number in the log
 * @param kind what it records
 * @param offset byte offset on the device (changes only)
 * @param length bytes changed (changes only); a write's data is that long
 * @param fua true for a change that was durable on completion (force unit access)
 * @param connection the NBD connection it came from, or -1
 * @param startNanos when the request entered the recorder (the server's time source)
 * @param endNanos when it completed (marks and flush begins: same as start)
 * @param ref for {@link Kind#FLUSH_END}: the index of its {@link Kind#FLUSH_BEGIN}; otherwise -1
 * @param label a mark's text ({@link Kind#MARK}), or the reason of {@link Kind#END}; else empty
 * @param dataPosition where a write's data starts in the log file; -1 for other kinds
 */
public record HistoryEntry(
        long index,
        Kind kind,
        long offset,
        long length,
        boolean fua,
        long connection,
        long startNanos,
        long endNanos,
        long ref,
        String label,
        long dataPosition) {

    /** What an entry records. */
    public enum Kind {
        /** A completed write; its data follows the entry. */
        WRITE,
        /** A completed trim: the range's content is undefined until rewritten (replayed as zeroes). */
        TRIM,
        /** A completed write-zeroes. */
        WRITE_ZEROES,
        /** A flush entered the recorder: it covers every change logged before this entry. */
        FLUSH_BEGIN,
        /** That flush completed: from here on, what it covers is durable. */
        FLUSH_END,
        /** A label inserted by a client (history-mark), e.g. an application's acknowledgement. */
        MARK,
        /** The last entry of a stopped history; label "stopped" or "overflowed". */
        END,
        /** A completed read, without its data; logged only when the history was started with reads. */
        READ;

        private static final Kind[] VALUES = values();

        static Kind of(int code) {
            if (code < 0 || code >= VALUES.length) {
                throw new IllegalArgumentException("unknown history entry kind " + code);
            }
            return VALUES[code];
        }
    }

    /** True for a write, trim or write-zeroes: an entry that changed data. */
    public boolean isChange() {
        return kind == Kind.WRITE || kind == Kind.TRIM || kind == Kind.WRITE_ZEROES;
    }

    /** The first byte after the changed range. */
    public long end() {
        return offset + length;
    }
}
