package dev.faultdisk.fault;

import dev.faultdisk.device.Errno;

import java.time.InstantSource;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;

/**
 * Every injected fault, every rule change (with the rules' seeds) and every release of a held
 * request, in order, as JSON-like maps with a sequence number: enough to see what happened and
 * to replay it (the same requests in the same order against the same rules and seeds meet the
 * same faults). The most recent {@code capacity} entries stay in memory for queries; a sink
 * (the journal file) sees all of them.
 */
public final class FaultJournal implements FaultListener {
    private final InstantSource clock;
    private final int capacity;
    private final ArrayDeque<Map<String, Object>> recent = new ArrayDeque<>();
    private final List<Consumer<Map<String, Object>>> sinks = new java.util.concurrent.CopyOnWriteArrayList<>();
    private long seq;

    public FaultJournal(InstantSource clock, int capacity) {
        if (capacity < 1) {
            throw new IllegalArgumentException("capacity " + capacity);
        }
        this.clock = clock;
        this.capacity = capacity;
    }

    /** Also sends every later entry to {@code sink} (called in journal order, under the journal's lock). */
    public void addSink(Consumer<Map<String, Object>> sink) {
        sinks.add(sink);
    }

    @Override
    public void injected(FaultRecord record) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("event", "fault");
        m.putAll(record.toMap());
        append(m);
    }

    @Override
    public void rulesChanged(String export, List<FaultRule> added, List<FaultRule> removed) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("time", clock.instant().toString());
        m.put("device", export);
        if (!added.isEmpty()) {
            m.put("event", "rules-added");
            List<Object> rules = new ArrayList<>();
            for (FaultRule r : added) {
                Map<String, Object> one = new LinkedHashMap<>();
                one.put("id", r.id());
                one.putAll(r.definition());
                rules.add(one);
            }
            m.put("rules", rules);
        } else {
            m.put("event", "rules-removed");
            List<Object> ids = new ArrayList<>();
            for (FaultRule r : removed) {
                ids.add(r.id());
            }
            m.put("ids", ids);
        }
        append(reorder(m));
    }

    @Override
    public void released(HeldRequest request, String how, int errno) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("event", "held-" + how);
        m.put("time", clock.instant().toString());
        m.put("device", request.export());
        m.put("held", request.id());
        m.put("rule", request.rule());
        m.put("operation", request.request().op().qapiName());
        m.put("offset", request.request().offset());
        m.put("length", request.request().length());
        if (errno != 0) {
            m.put("errno", Errno.name(errno));
        }
        append(m);
    }

    /** "event" first, then "time" and the rest. */
    private static Map<String, Object> reorder(Map<String, Object> m) {
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("event", m.get("event"));
        m.forEach(out::putIfAbsent);
        return out;
    }

    private synchronized void append(Map<String, Object> entry) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("seq", ++seq);
        m.putAll(entry);
        Map<String, Object> frozen = java.util.Collections.unmodifiableMap(m);
        if (recent.size() == capacity) {
            recent.removeFirst();
        }
        recent.addLast(frozen);
        for (Consumer<Map<String, Object>> sink : sinks) {
            sink.accept(frozen);
        }
    }

    /** Entries with a sequence number above {@code after}, oldest first, at most {@code limit}, optionally of one export. */
    public synchronized List<Map<String, Object>> entries(long after, int limit, String export) {
        List<Map<String, Object>> out = new ArrayList<>();
        for (Map<String, Object> e : recent) {
            if ((Long) e.get("seq") <= after || (export != null && !export.equals(e.get("device")))) {
                continue;
            }
            if (out.size() == limit) {
                break;
            }
            out.add(e);
        }
        return out;
    }

    /** The sequence number of the latest entry. */
    public synchronized long lastSeq() {
        return seq;
    }
}
