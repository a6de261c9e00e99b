package dev.faultdisk.fault;

import dev.faultdisk.device.BlockRequest;
import dev.faultdisk.device.DeviceException;
import dev.faultdisk.wire.BlockOp;
import dev.faultdisk.wire.Errno;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.NavigableSet;
import java.util.SplittableRandom;
import java.util.concurrent.ConcurrentSkipListSet;

/**
 * Bad sectors, as a dying disk has them: a read touching one fails (EIO at the sector's offset)
 * until the sector is rewritten whole; a write covering only part of one fails too (the disk
 * cannot read-modify-write it). With {@code grow-probability} each request the rule selects may
 * turn one more sector bad, next to an existing one ({@code spread}) or anywhere in the rule's
 * range. Initial sectors are listed or drawn from the seed.
 */
final class BadSectorFault implements Fault {
    static final FaultType TYPE = new FaultType(
            "bad-sector",
            "sectors that fail reads until rewritten, and can grow",
            EnumSet.of(BlockOp.READ, BlockOp.WRITE, BlockOp.TRIM, BlockOp.WRITE_ZEROES),
            EnumSet.of(BlockOp.READ, BlockOp.WRITE, BlockOp.TRIM, BlockOp.WRITE_ZEROES),
            BadSectorFault::parse);

    private final int sectorSize;
    private final List<Long> initial;
    private final long count;
    private final double growProbability;
    private final boolean spread;
    private final int errno;
    private final long firstSector;
    private final long endSector;
    private final NavigableSet<Long> bad = new ConcurrentSkipListSet<>();

    private BadSectorFault(
            int sectorSize,
            List<Long> initial,
            long count,
            double growProbability,
            boolean spread,
            int errno,
            long firstSector,
            long endSector,
            long seed) {
        this.sectorSize = sectorSize;
        this.initial = List.copyOf(initial);
        this.count = count;
        this.growProbability = growProbability;
        this.spread = spread;
        this.errno = errno;
        this.firstSector = firstSector;
        this.endSector = endSector;
        bad.addAll(initial);
        SplittableRandom random = new SplittableRandom(seed);
        while (bad.size() < initial.size() + count) {
            bad.add(firstSector + random.nextLong(endSector - firstSector));
        }
    }

    private static BadSectorFault parse(RuleParams p, FaultType.Context c) {
        long ss = p.size("sector-size", 512, 512, 64 * 1024);
        if (Long.bitCount(ss) != 1) {
            throw p.error("sector-size", "must be a power of two, got " + ss);
        }
        Targeting t = c.targeting();
        long first = t.offset() / ss;
        long end = (t.end() + ss - 1) / ss;
        List<Long> sectors = p.has("sectors") ? p.integers("sectors", 0, Long.MAX_VALUE / ss) : List.of();
        for (int i = 0; i < sectors.size(); i++) {
            long s = sectors.get(i);
            if (s * ss >= c.exportSize()) {
                throw new FaultRuleException(p.name("sectors") + "[" + i + "] is past the end of the export: sector "
                        + s + " starts at byte " + s * ss + ", the export has " + c.exportSize() + " bytes");
            }
            if (s < first || s >= end) {
                throw new FaultRuleException(
                        p.name("sectors") + "[" + i + "] (sector " + s + ") lies outside the rule's range");
            }
        }
        long count = p.integer("count", 0, 0, 1_000_000);
        long distinct = sectors.stream().distinct().count();
        if (count > (end - first) - distinct) {
            throw p.error("count", "asks for more bad sectors than the range has (" + (end - first) + ")");
        }
        double grow = p.number("grow-probability", 0, 0, 1);
        boolean spread = p.bool("spread", true);
        if (sectors.isEmpty() && count == 0 && grow == 0) {
            throw new FaultRuleException(p.path() + " needs sectors, count or grow-probability");
        }
        return new BadSectorFault(
                (int) ss, sectors, count, grow, spread, p.errno("errno", Errno.EIO), first, end, c.seed());
    }

    @Override
    public Stage stage() {
        return Stage.BAD_SECTOR;
    }

    @Override
    public void apply(FaultCall call, Firing firing) {
        BlockRequest r = call.request();
        if (growProbability > 0 && firing.random().nextDouble() < growProbability) {
            grow(call, firing);
        }
        if (r.length() == 0) {
            return;
        }
        long first = r.offset() / sectorSize;
        long last = (r.offset() + r.length() - 1) / sectorSize;
        if (r.op() == BlockOp.READ) {
            Long s = bad.ceiling(first);
            if (s != null && s <= last) {
                long at = Math.max(r.offset(), s * sectorSize);
                call.record(firing, "read hit bad sector " + s + ": " + Errno.name(errno), sectorDetails(s));
                call.fail(new DeviceException(
                        errno,
                        "bad sector " + s + " (fault rule " + firing.rule().id() + ")",
                        at));
            }
            return;
        }
        List<Long> covered = new ArrayList<>();
        for (long s : bad.subSet(first, true, last, true)) {
            long start = s * sectorSize;
            if (start < r.offset() || start + sectorSize > r.offset() + r.length()) {
                call.record(firing, "partial write to bad sector " + s + ": " + Errno.name(errno), sectorDetails(s));
                call.fail(new DeviceException(
                        errno,
                        "bad sector " + s + " cannot be partly rewritten (fault rule "
                                + firing.rule().id() + ")",
                        Math.max(r.offset(), start)));
                return;
            }
            covered.add(s);
        }
        if (!covered.isEmpty()) {
            call.afterIo(c -> {
                covered.forEach(bad::remove);
                Map<String, Object> details = new LinkedHashMap<>();
                details.put("sectors", covered);
                details.put("sector-size", sectorSize);
                details.put("bad-sectors", bad.size());
                c.record(
                        firing,
                        "rewritten: " + covered.size() + " bad sector" + (covered.size() == 1 ? "" : "s") + " healed",
                        details);
            });
        }
    }

    private void grow(FaultCall call, Firing firing) {
        SplittableRandom random = firing.random();
        long s = -1;
        if (spread && !bad.isEmpty()) {
            Long[] now = bad.toArray(new Long[0]);
            long near = now[random.nextInt(now.length)] + (random.nextBoolean() ? 1 : -1);
            if (near >= firstSector && near < endSector && !bad.contains(near)) {
                s = near;
            }
        }
        if (s < 0) {
            s = firstSector + random.nextLong(endSector - firstSector);
        }
        if (bad.add(s)) {
            call.record(firing, "sector " + s + " went bad", sectorDetails(s));
        }
    }

    private Map<String, Object> sectorDetails(long s) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("sector", s);
        m.put("sector-size", sectorSize);
        m.put("sector-offset", s * sectorSize);
        m.put("errno", Errno.name(errno));
        m.put("bad-sectors", bad.size());
        return m;
    }

    @Override
    public Map<String, Object> parameters() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("sector-size", sectorSize);
        if (!initial.isEmpty()) {
            m.put("sectors", initial);
        }
        if (count > 0) {
            m.put("count", count);
        }
        if (growProbability > 0) {
            m.put("grow-probability", growProbability);
            m.put("spread", spread);
        }
        m.put("errno", Errno.name(errno));
        return m;
    }

    /** The bad sectors now (at most the first 1000). */
    @Override
    public Map<String, Object> state() {
        List<Long> now = new ArrayList<>();
        for (long s : bad) {
            if (now.size() == 1000) {
                break;
            }
            now.add(s);
        }
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("bad-sectors", bad.size());
        m.put("sectors", now);
        return m;
    }
}
