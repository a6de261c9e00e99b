package dev.faultdisk.fault.blkdebug;

import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;

import dev.faultdisk.wire.Errno;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Set;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * The index of armed inject-error rules answers as QEMU's rule_check loop does: the first rule in
 * definition order whose I/O type matches and whose sector is any, or lies inside the request
 * (unsigned, as QEMU's uint64 offsets compare; never for a request of no bytes).
 */
class ArmedRulesTest {
    private static final IoType[] TYPES = IoType.values();

    /** QEMU's loop, written out: what the index must agree with. */
    private static RuleEntry scan(List<RuleEntry> entries, IoType type, long offset, long bytes) {
        for (RuleEntry e : entries) {
            long at = e.offset();
            boolean placed = e.inject().sector() != InjectErrorRule.ANY_SECTOR;
            boolean inRange = !placed
                    || (bytes != 0
                            && Long.compareUnsigned(at, offset) >= 0
                            && Long.compareUnsigned(at, offset + bytes) < 0);
            if (inRange && e.inject().ioTypes().contains(type)) {
                return e;
            }
        }
        return null;
    }

    private static RuleEntry entry(long seq, long sector, Set<IoType> types) {
        return RuleEntry.of(
                new InjectErrorRule(BlkdebugEvent.NONE, Rule.ANY_STATE, types, Errno.EIO, sector, false, false), seq);
    }

    @Test
    void theIndexAgreesWithQemusLoopOnRandomRulesAndRequests() {
        SplittableRandom random = new SplittableRandom(20261130);
        for (int round = 0; round < 200; round++) {
            List<RuleEntry> entries = new ArrayList<>();
            int n = random.nextInt(12);
            for (int i = 0; i < n; i++) {
                long sector = switch (random.nextInt(4)) {
                    case 0 -> InjectErrorRule.ANY_SECTOR;
                    case 1 -> random.nextLong(1L << 54, 1L << 55); // past 2^63 once in bytes: unsigned order
                    default -> random.nextLong(64);
                };
                Set<IoType> types = EnumSet.noneOf(IoType.class);
                types.add(TYPES[random.nextInt(TYPES.length)]);
                if (random.nextBoolean()) {
                    types.add(TYPES[random.nextInt(TYPES.length)]);
                }
                entries.add(entry(i + 1, sector, types));
            }
            ArmedRules armed = ArmedRules.of(entries);
            for (int q = 0; q < 50; q++) {
                IoType type = TYPES[random.nextInt(TYPES.length)];
                long offset = random.nextBoolean() ? random.nextLong(64 * 512) : random.nextLong();
                long bytes = random.nextInt(4) == 0 ? 0 : random.nextLong(1, 16 * 512);
                assertSame(
                        scan(entries, type, offset, bytes),
                        armed.firstMatch(type, offset, bytes),
                        () -> "rules "
                                + entries.stream()
                                        .map(e -> e.inject().sector() + ":"
                                                + e.inject().ioTypes())
                                        .toList() + ", " + type + " at " + offset + " of " + bytes);
            }
        }
    }

    @Test
    void anEarlierSectorRuleWinsOverALaterAnySectorRule() {
        RuleEntry placed = entry(1, 8, EnumSet.of(IoType.WRITE));
        RuleEntry any = entry(2, InjectErrorRule.ANY_SECTOR, EnumSet.of(IoType.WRITE));
        ArmedRules armed = ArmedRules.of(List.of(placed, any));
        assertSame(placed, armed.firstMatch(IoType.WRITE, 8 * 512, 512));
        assertSame(any, armed.firstMatch(IoType.WRITE, 0, 512), "the sector is not in this request");
        assertSame(any, armed.firstMatch(IoType.WRITE, 8 * 512, 0), "a request of no bytes touches no sector");
        assertNull(armed.firstMatch(IoType.READ, 8 * 512, 512));
        assertNull(ArmedRules.NONE.firstMatch(IoType.READ, 0, 512));
    }

    @Test
    void offsetsCompareUnsignedAcrossTwoToTheSixtyThree() {
        RuleEntry atTwoTo63 = entry(1, 1L << 54, EnumSet.of(IoType.READ)); // byte 2^63: negative as a long
        ArmedRules armed = ArmedRules.of(List.of(atTwoTo63));
        assertSame(atTwoTo63, armed.firstMatch(IoType.READ, Long.MAX_VALUE - 511, 1024), "[2^63 - 512, 2^63 + 512)");
        assertNull(armed.firstMatch(IoType.READ, 0, 1024));
    }
}
