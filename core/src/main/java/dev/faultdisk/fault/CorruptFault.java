package dev.faultdisk.fault;

import dev.faultdisk.device.BlockRequest;
import dev.faultdisk.wire.BlockOp;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.BitSet;
import java.util.EnumSet;
import java.util.HashSet;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;

/**
 * Silent corruption. On a read, the data returned differs from the data stored (which stays
 * intact); on a write, the data persisted differs from the data sent (the caller's buffer stays
 * intact: the fault changes a copy). Modes: flip {@code bits} random bits, zero or fill with
 * seeded garbage {@code bytes} bytes at a random place, within the part of the request inside
 * the rule's byte range. Every change is journaled exactly: device offset, bytes before and after.
 */
record CorruptFault(String mode, int bits, int bytes) implements Fault {
    static final FaultType TYPE = new FaultType(
            "corrupt",
            "return or persist different data: flip bits, zero or garbage bytes (seeded)",
            EnumSet.of(BlockOp.READ, BlockOp.WRITE),
            EnumSet.of(BlockOp.READ),
            CorruptFault::parse);
    private static final HexFormat HEX = HexFormat.of();

    private static CorruptFault parse(RuleParams p, FaultType.Context c) {
        String mode = p.choice("mode", "flip", List.of("flip", "zero", "garbage"));
        if (mode.equals("flip")) {
            return new CorruptFault(mode, (int) p.integer("bits", 1, 1, 1 << 20), 0);
        }
        return new CorruptFault(mode, 0, (int) p.size("bytes", 512, 1, 32 << 20));
    }

    @Override
    public Stage stage() {
        return Stage.CORRUPT;
    }

    @Override
    public void apply(FaultCall call, Firing firing) {
        if (call.request().length() == 0) {
            return;
        }
        if (call.request().op() == BlockOp.READ) {
            call.afterIo(c -> corrupt(c, c.data(), c.dataStart(), firing, "read"));
        } else {
            corrupt(call, call.writableCopy(), 0, firing, "write");
        }
    }

    /** Corrupts the part of the request inside the rule's range. */
    private void corrupt(FaultCall call, ByteBuffer data, int base, Firing firing, String what) {
        BlockRequest r = call.request();
        Targeting t = firing.rule().targeting();
        long first = Math.max(r.offset(), t.offset());
        long end = Math.min(r.offset() + r.length(), t.end());
        int start = base + (int) (first - r.offset());
        int length = (int) (end - first);
        long offset = first;
        SplittableRandom random = firing.random();
        List<Map<String, Object>> changes = new ArrayList<>();
        String action;
        if (mode.equals("flip")) {
            byte[] before = new byte[length];
            data.get(start, before);
            long total = 8L * length;
            BitSet touched = new BitSet(length);
            int flipped;
            if (bits >= total) {
                for (int i = 0; i < length; i++) {
                    data.put(start + i, (byte) ~data.get(start + i));
                }
                touched.set(0, length);
                flipped = (int) total;
            } else {
                Set<Long> positions = new HashSet<>();
                while (positions.size() < bits) {
                    long bit = random.nextLong(total);
                    if (positions.add(bit)) {
                        int i = (int) (bit >>> 3);
                        data.put(start + i, (byte) (data.get(start + i) ^ (1 << (bit & 7))));
                        touched.set(i);
                    }
                }
                flipped = bits;
            }
            for (int from = touched.nextSetBit(0); from >= 0; from = touched.nextSetBit(touched.nextClearBit(from))) {
                changes.add(change(offset + from, before, data, start, from, touched.nextClearBit(from)));
            }
            action = "corrupted " + what + ": flipped " + flipped + " bit" + (flipped == 1 ? "" : "s");
        } else {
            int n = Math.min(bytes, length);
            int at = length == n ? 0 : random.nextInt(length - n + 1);
            byte[] before = new byte[length];
            data.get(start, before);
            for (int i = 0; i < n; i++) {
                data.put(start + at + i, mode.equals("zero") ? 0 : (byte) random.nextInt(256));
            }
            changes.add(change(offset + at, before, data, start, at, at + n));
            action = "corrupted " + what + ": " + (mode.equals("zero") ? "zeroed " : "garbage in ") + n + " bytes at "
                    + (offset + at);
        }
        Map<String, Object> details = new LinkedHashMap<>();
        details.put("mode", mode);
        details.put(
                what.equals("read") ? "returned" : "persisted",
                "differs from " + (what.equals("read") ? "stored" : "sent"));
        details.put("changes", changes);
        call.record(firing, action, details);
    }

    /** One changed run: bytes [from, to) of the request. */
    private static Map<String, Object> change(
            long deviceOffset, byte[] before, ByteBuffer data, int start, int from, int to) {
        byte[] after = new byte[to - from];
        data.get(start + from, after);
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("offset", deviceOffset);
        m.put("before", HEX.formatHex(before, from, to));
        m.put("after", HEX.formatHex(after));
        return m;
    }

    @Override
    public Map<String, Object> parameters() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("mode", mode);
        if (mode.equals("flip")) {
            m.put("bits", bits);
        } else {
            m.put("bytes", bytes);
        }
        return m;
    }
}
