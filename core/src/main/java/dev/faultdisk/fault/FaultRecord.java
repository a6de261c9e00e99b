package dev.faultdisk.fault;

import dev.faultdisk.wire.BlockOp;
import dev.faultdisk.wire.json.JsonMembers;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * One injected fault, as journaled and announced: which rule did what to which request, with the
 * rule's seed and the match number that together determine every random draw it made.
 *
 * @param time       when (fault clock)
 * @param export     the export's name
 * @param rule       the rule's id
 * @param type       the rule's type
 * @param label      the rule's label, or ""
 * @param op         the request's operation
 * @param offset     the request's offset
 * @param length     the request's length
 * @param connection the request's NBD connection, or -1
 * @param action     what was done, in a few words ("error EIO", "delayed 10.000 ms", "held", ...)
 * @param details    the exact facts (errno, delay, corrupted bytes before and after, ...)
 * @param seed       the rule's seed
 * @param match      the request's match number for the rule
 * @param announce   true if the rule wants each firing announced as an event (it is journaled either way)
 * @param files      what the request's range holds when the export has a file map (files with
 *                   the offset in them, file-system structures), else empty
 */
public record FaultRecord(
        Instant time,
        String export,
        long rule,
        String type,
        String label,
        BlockOp op,
        long offset,
        long length,
        long connection,
        String action,
        Map<String, Object> details,
        long seed,
        long match,
        boolean announce,
        List<Map<String, Object>> files) {

    public FaultRecord {
        details = java.util.Collections.unmodifiableMap(details); // faults hand over fresh maps
        files = List.copyOf(files);
    }

    /** Members of {@link #toMap()} at most: its map never grows. */
    private static final int FIELDS = 14;

    /** The record as a JSON-like map (journal lines), its time first. */
    public Map<String, Object> toMap() {
        Map<String, Object> m = LinkedHashMap.newLinkedHashMap(FIELDS);
        m.put("time", time.toString());
        writeFacts(m::put);
        return m;
    }

    /**
     * The record without its time, as a QMP event's data: the event's timestamp says when. Written
     * straight into the event's text, with no map and no time formatted that nobody reads.
     */
    public JsonMembers eventData() {
        return this::writeFacts;
    }

    private void writeFacts(JsonMembers.Sink m) {
        m.member("device", export);
        m.member("rule", rule);
        m.member("type", type);
        if (!label.isEmpty()) {
            m.member("label", label);
        }
        m.member("operation", op.wireName());
        m.member("offset", offset);
        m.member("length", length);
        if (connection >= 0) {
            m.member("connection", connection);
        }
        m.member("action", action);
        m.member("details", details);
        m.member("seed", seed);
        m.member("match", match);
        if (!files.isEmpty()) {
            m.member("files", files);
        }
    }
}
