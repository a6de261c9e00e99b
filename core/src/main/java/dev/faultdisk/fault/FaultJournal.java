package dev.faultdisk.fault;

import dev.faultdisk.wire.BlockOp;
import dev.faultdisk.wire.Errno;
import java.time.Instant;
import java.time.InstantSource;
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
    /**
     * One journal entry: a fault (kept as its record, turned into a map only when read, so the
     * request that injected it pays little) or another event, already a map.
     */
    public static final class Entry {
        private final long seq;
        private final FaultRecord record;
        private final Map<String, Object> other;

        private Entry(long seq, FaultRecord record, Map<String, Object> other) {
            this.seq = seq;
            this.record = record;
            this.other = other;
        }

        public long seq() {
            return seq;
        }

        public String export() {
            return record != null ? record.export() : (String) other.get("device");
        }

        /** The entry as a JSON-like map: "seq", "event", then the rest. */
        public Map<String, Object> toMap() {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("seq", seq);
            if (record != null) {
                m.put("event", "fault");
                m.putAll(record.toMap());
            } else {
                m.putAll(other);
            }
            return m;
        }
    }

    private final InstantSource clock;
    private final int capacity;
    /**
     * The most recent entries, oldest at {@link #first}: slots made once and written over, so that
     * a young collection does not copy the window each time (at tens of thousands of faults a
     * second the whole window is young; copying it made each pause 2-5 ms, docs/BENCHMARKS.md).
     * Grows to {@link #capacity}; guarded by {@code this}.
     */
    private final List<Slot> recent = new ArrayList<>();

    private int first;
    private final List<Consumer<Entry>> sinks = new java.util.concurrent.CopyOnWriteArrayList<>();
    private long seq;

    public FaultJournal(InstantSource clock, int capacity) {
        if (capacity < 1) {
            throw new IllegalArgumentException("capacity " + capacity);
        }
        this.clock = clock;
        this.capacity = capacity;
    }

    /** Also sends every later entry to {@code sink} (called in journal order, under the journal's lock). */
    public void addSink(Consumer<Entry> sink) {
        sinks.add(sink);
    }

    @Override
    public void injected(FaultRecord record) {
        append(record, null);
    }

    @Override
    public void rulesChanged(String export, List<FaultRule> added, List<FaultRule> removed) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("event", added.isEmpty() ? "rules-removed" : "rules-added");
        m.put("time", clock.instant().toString());
        m.put("device", export);
        if (!added.isEmpty()) {
            List<Object> rules = new ArrayList<>();
            for (FaultRule r : added) {
                Map<String, Object> one = new LinkedHashMap<>();
                one.put("id", r.id());
                one.putAll(r.definition());
                rules.add(one);
            }
            m.put("rules", rules);
        } else {
            List<Object> ids = new ArrayList<>();
            for (FaultRule r : removed) {
                ids.add(r.id());
            }
            m.put("ids", ids);
        }
        append(null, m);
    }

    @Override
    public void released(HeldRequest request, String how, int errno) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("event", "held-" + how);
        m.put("time", clock.instant().toString());
        m.put("device", request.export());
        m.put("held", request.id());
        m.put("rule", request.rule());
        m.put("operation", request.request().op().wireName());
        m.put("offset", request.request().offset());
        m.put("length", request.request().length());
        if (errno != 0) {
            m.put("errno", Errno.name(errno));
        }
        append(null, m);
    }

    /**
     * Adds an entry of another kind (a trigger firing, a trigger added or removed): {@code entry}
     * has an "event" name, a "time" and, if it concerns one export, a "device".
     */
    public void note(Map<String, Object> entry) {
        append(null, new LinkedHashMap<>(entry));
    }

    private synchronized void append(FaultRecord record, Map<String, Object> other) {
        Map<String, Object> fixed = other == null ? null : java.util.Collections.unmodifiableMap(other);
        long n = ++seq;
        Slot slot;
        if (recent.size() < capacity) {
            slot = new Slot();
            recent.add(slot);
        } else {
            slot = recent.get(first); // the oldest, written over
            first = (first + 1) % capacity;
        }
        slot.set(n, record, fixed);
        if (!sinks.isEmpty()) {
            Entry e = new Entry(n, record, fixed);
            for (Consumer<Entry> sink : sinks) {
                sink.accept(e);
            }
        }
    }

    /** Entries with a sequence number above {@code after}, oldest first, at most {@code limit}, optionally of one export. */
    public List<Map<String, Object>> entries(long after, int limit, String export) {
        List<Entry> chosen = new ArrayList<>();
        synchronized (this) {
            for (int i = 0; i < recent.size(); i++) {
                Slot e = recent.get((first + i) % recent.size());
                if (e.seq <= after || (export != null && !export.equals(e.export()))) {
                    continue;
                }
                if (chosen.size() == limit) {
                    break;
                }
                chosen.add(e.entry());
            }
        }
        List<Map<String, Object>> out = new ArrayList<>(chosen.size());
        for (Entry e : chosen) {
            out.add(e.toMap());
        }
        return out;
    }

    /** The sequence number of the latest entry. */
    public synchronized long lastSeq() {
        return seq;
    }

    /**
     * One place in the window: a fault's facts as fields (its time as numbers, the rest the
     * record's own strings and maps, which a rule shares between its firings), or another entry's
     * map. It keeps no reference to the record or its time, which die young.
     */
    private static final class Slot {
        long seq;
        long epochSecond;
        int nano;
        String export;
        long rule;
        String type;
        String label;
        BlockOp op;
        long offset;
        long length;
        long connection;
        String action;
        Map<String, Object> details;
        long ruleSeed;
        long match;
        boolean announce;
        List<Map<String, Object>> files;
        /** Null for a fault. */
        Map<String, Object> other;

        void set(long n, FaultRecord r, Map<String, Object> otherEntry) {
            seq = n;
            other = otherEntry;
            if (r == null) {
                export = null;
                details = null;
                files = null;
                return;
            }
            Instant time = r.time();
            epochSecond = time.getEpochSecond();
            nano = time.getNano();
            export = r.export();
            rule = r.rule();
            type = r.type();
            label = r.label();
            op = r.op();
            offset = r.offset();
            length = r.length();
            connection = r.connection();
            action = r.action();
            details = r.details();
            ruleSeed = r.seed();
            match = r.match();
            announce = r.announce();
            files = r.files();
        }

        String export() {
            return other != null ? (String) other.get("device") : export;
        }

        Entry entry() {
            if (other != null) {
                return new Entry(seq, null, other);
            }
            FaultRecord r = new FaultRecord(
                    Instant.ofEpochSecond(epochSecond, nano),
                    export,
                    rule,
                    type,
                    label,
                    op,
                    offset,
                    length,
                    connection,
                    action,
                    details,
                    ruleSeed,
                    match,
                    announce,
                    files);
            return new Entry(seq, r, null);
        }
    }
}
