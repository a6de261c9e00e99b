package dev.faultdisk.explore;

import dev.faultdisk.wire.json.Json;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SortedSet;

/** A crash state as a report describes it: enough to build it again with history-materialize. */
record StateSpec(
        String run,
        String export,
        String history,
        long prefix,
        SortedSet<Long> applied,
        Map<Long, List<Integer>> torn) {

    /** State {@code id} (a number, or mN for minimal reproducer N) of the report in {@code json}. */
    @SuppressWarnings("unchecked")
    static StateSpec find(String json, String id) {
        Map<String, Object> report = Json.parseObject(json);
        List<Object> list;
        String key;
        if (id.startsWith("m")) {
            list = (List<Object>) report.get("minimized");
            key = id.substring(1);
        } else {
            list = (List<Object>) report.get("states");
            key = id;
        }
        int n;
        try {
            n = Integer.parseInt(key);
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("a state is a number, or mN for minimal reproducer N: '" + id + "'");
        }
        if (list == null || n < 0 || n >= list.size()) {
            throw new IllegalArgumentException("the report has no state " + id + " (it has "
                    + (list == null ? 0 : list.size()) + (id.startsWith("m") ? " reproducers)" : " states)"));
        }
        Map<String, Object> s = (Map<String, Object>) list.get(n);
        if (id.startsWith("m")) {
            s = (Map<String, Object>) s.get("reproducer");
        }
        Map<Long, List<Integer>> torn = new LinkedHashMap<>();
        Map<String, Object> t = (Map<String, Object>) s.getOrDefault("torn", Map.of());
        for (Map.Entry<String, Object> e : t.entrySet()) {
            List<Integer> blocks = new ArrayList<>();
            for (Object b : (List<Object>) e.getValue()) {
                blocks.add(((Long) b).intValue());
            }
            torn.put(Long.parseLong(e.getKey()), blocks);
        }
        return new StateSpec(
                (String) report.get("run"),
                (String) report.get("export"),
                (String) report.get("history"),
                (Long) s.get("prefix"),
                Ranges.parse((String) s.get("applied")),
                torn);
    }
}
