package dev.faultdisk.client;

import dev.faultdisk.wire.json.Members;
import java.util.List;
import java.util.Map;

/**
 * A page of the fault journal ({@code query-fault-journal}).
 *
 * @param entries the entries, oldest first, as the server writes them (seq, event, time, device, ...)
 * @param last    the seq of the latest entry the server has: pass it as {@code after} to read on
 */
public record FaultJournal(List<Map<String, Object>> entries, long last) {

    static FaultJournal from(Object value) {
        Members m = Replies.object(value, "query-fault-journal reply");
        List<Map<String, Object>> entries = m.list("entries").stream()
                .map(e -> Replies.object(e, "journal entry").asMap())
                .toList();
        return new FaultJournal(entries, m.integer("last"));
    }
}
