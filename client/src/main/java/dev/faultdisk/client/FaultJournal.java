package dev.faultdisk.client;

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
        Map<String, Object> m = Values.object(value, "query-fault-journal reply");
        List<Map<String, Object>> entries = Values.list(m, "entries").stream()
                .map(e -> Values.object(e, "journal entry")).toList();
        return new FaultJournal(entries, Values.integer(m, "last"));
    }
}
