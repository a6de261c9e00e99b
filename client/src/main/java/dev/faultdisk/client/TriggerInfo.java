package dev.faultdisk.client;

import java.util.List;
import java.util.Map;

/**
 * One trigger as {@code query-triggers} lists it.
 *
 * @param id        the trigger's id
 * @param name      its name
 * @param fired     how often it fired
 * @param fireTimes when (the first 16 times, ISO-8601)
 * @param waiting   what it waits for now, e.g. "12/21 write on disk0" (empty once it fired as often as it may)
 * @param raw       the whole entry (condition and actions as accepted)
 */
public record TriggerInfo(
        long id, String name, long fired, List<String> fireTimes, List<String> waiting, Map<String, Object> raw) {

    static TriggerInfo from(Object value) {
        return ReplyRecord.read(TriggerInfo.class, value, "query-triggers entry");
    }
}
