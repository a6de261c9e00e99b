package dev.faultdisk.fault.blkdebug;

import static dev.faultdisk.fault.blkdebug.BlkdebugEvent.FLUSH_TO_OS;
import static dev.faultdisk.fault.blkdebug.BlkdebugEvent.NONE;
import static dev.faultdisk.fault.blkdebug.BlkdebugEvent.READ_AIO;
import static dev.faultdisk.fault.blkdebug.BlkdebugEvent.WRITE_AIO;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.faultdisk.wire.Errno;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class BlkdebugEngineTest {

    private static int read(BlkdebugEngine e, long offset, long bytes) throws InterruptedException {
        e.fire(READ_AIO, Operation.READ, offset, bytes);
        return e.check(IoType.READ, Operation.READ, offset, bytes);
    }

    private static int write(BlkdebugEngine e, long offset, long bytes) throws InterruptedException {
        e.fire(WRITE_AIO, Operation.WRITE, offset, bytes);
        return e.check(IoType.WRITE, Operation.WRITE, offset, bytes);
    }

    @Test
    void idleEngineIsNotEngagedAndPassesEverything() throws Exception {
        BlkdebugEngine e = new BlkdebugEngine();
        assertFalse(e.isEngaged());
        assertFalse(e.mayBlock());
        assertEquals(0, read(e, 0, 512));
        assertEquals(1, e.state());
    }

    @Test
    void ruleArmsOnItsEventAndStaysArmedAcrossOtherEvents() throws Exception {
        BlkdebugEngine e = new BlkdebugEngine(List.of(InjectErrorRule.on(WRITE_AIO)));
        assertTrue(e.isEngaged());
        assertEquals(0, read(e, 0, 512), "nothing armed before write_aio fires");
        assertEquals(Errno.EIO, write(e, 0, 512));
        // read_aio has no rules, so the armed set stays: reads fail too (default iotypes)
        assertEquals(Errno.EIO, read(e, 0, 512));
        assertEquals(Errno.EIO, e.check(IoType.FLUSH, Operation.FLUSH, 0, 0));
        assertEquals(
                0,
                e.check(IoType.BLOCK_STATUS, Operation.BLOCK_STATUS, 0, 512),
                "block-status is not in the default mask");
    }

    @Test
    void anotherEventArmingRulesReplacesTheActiveSet() throws Exception {
        BlkdebugEngine e = new BlkdebugEngine(List.of(
                InjectErrorRule.on(WRITE_AIO).withIoType(IoType.READ),
                InjectErrorRule.on(READ_AIO).withIoType(IoType.WRITE)));
        assertEquals(0, write(e, 0, 512));
        assertEquals(0, read(e, 0, 512), "read_aio armed the write-only rule, replacing the read rule");
        assertEquals(Errno.EIO, e.check(IoType.WRITE, Operation.WRITE, 0, 512));
        assertEquals(List.of(InjectErrorRule.on(READ_AIO).withIoType(IoType.WRITE)), e.activeRules());
    }

    @Test
    void anEventWhoseRulesDoNotMatchTheStateKeepsTheActiveSet() throws Exception {
        BlkdebugEngine e = new BlkdebugEngine(List.of(
                InjectErrorRule.on(WRITE_AIO).withState(1).withIoType(IoType.READ), new SetStateRule(WRITE_AIO, 1, 2)));
        assertEquals(0, write(e, 0, 512));
        assertEquals(2, e.state());
        assertEquals(Errno.EIO, read(e, 0, 512));
        assertEquals(0, write(e, 0, 512), "state 2: the rule does not act, the armed set is untouched");
        assertEquals(Errno.EIO, read(e, 0, 512));
    }

    @Test
    void stateZeroMeansAnyStateAndRulesSeeTheStateFromBeforeTheEvent() throws Exception {
        // The "match the 2nd write_aio" example of QEMU's documentation.
        BlkdebugEngine e = new BlkdebugEngine(List.of(
                new SetStateRule(WRITE_AIO, 1, 2), InjectErrorRule.on(WRITE_AIO).withState(2)));
        assertEquals(0, write(e, 0, 512), "first write_aio: the inject rule sees state 1");
        assertEquals(2, e.state());
        assertEquals(Errno.EIO, write(e, 0, 512), "second write_aio: state 2");
    }

    @Test
    void setStateChainAdvancesOncePerEvent() throws Exception {
        List<Rule> rules = new ArrayList<>();
        for (int s = 1; s <= 4; s++) {
            rules.add(new SetStateRule(WRITE_AIO, s, s + 1));
        }
        rules.add(InjectErrorRule.on(READ_AIO).withState(4).withErrno(Errno.ENOSPC));
        BlkdebugEngine e = new BlkdebugEngine(rules);
        for (int i = 0; i < 3; i++) {
            assertEquals(0, read(e, 0, 512), "state " + e.state());
            assertEquals(0, write(e, 0, 512));
        }
        assertEquals(4, e.state());
        assertEquals(Errno.ENOSPC, read(e, 0, 512));
        write(e, 0, 512);
        assertEquals(5, e.state());
        assertEquals(
                Errno.ENOSPC,
                read(e, 0, 512),
                "read_aio in state 5 arms nothing; the rule armed in state 4 stays armed");
    }

    @Test
    void firstDefinedSetStateWins() throws Exception {
        BlkdebugEngine e =
                new BlkdebugEngine(List.of(new SetStateRule(WRITE_AIO, 0, 2), new SetStateRule(WRITE_AIO, 0, 3)));
        write(e, 0, 512);
        assertEquals(2, e.state());
    }

    @Test
    void firstDefinedMatchingInjectRuleWins() throws Exception {
        BlkdebugEngine e = new BlkdebugEngine(List.of(
                InjectErrorRule.on(READ_AIO).withErrno(Errno.ENOSPC).withSector(8),
                InjectErrorRule.on(READ_AIO).withErrno(Errno.EPERM),
                InjectErrorRule.on(READ_AIO).withErrno(Errno.ENOMEM)));
        assertEquals(Errno.ENOSPC, read(e, 4096, 512), "covers sector 8: the first rule matches");
        assertEquals(Errno.EPERM, read(e, 0, 512), "the sector rule does not match; the next one wins");
    }

    @Test
    void errnoZeroMatchesButInjectsNothingAndHidesLaterRules() throws Exception {
        BlkdebugEngine e = new BlkdebugEngine(List.of(
                InjectErrorRule.on(READ_AIO).withErrno(0).withSector(0).withOnce(true),
                InjectErrorRule.on(READ_AIO).withErrno(Errno.ENOSPC)));
        assertEquals(0, read(e, 0, 512));
        assertEquals(0, read(e, 0, 512), "a once rule with errno 0 is never used up");
        assertEquals(Errno.ENOSPC, read(e, 512, 512));
        assertEquals(2, e.rules().size());
    }

    @Test
    void onceDeletesTheRuleForGood() throws Exception {
        BlkdebugEngine e =
                new BlkdebugEngine(List.of(InjectErrorRule.on(READ_AIO).withOnce(true)));
        assertEquals(Errno.EIO, read(e, 0, 512));
        assertEquals(0, read(e, 0, 512));
        assertEquals(0, read(e, 0, 512), "not re-armed by the next read_aio: deleted");
        assertEquals(List.of(), e.rules());
    }

    @Test
    void onceRemovesOnlyThatRuleFromTheActiveSet() throws Exception {
        BlkdebugEngine e = new BlkdebugEngine(List.of(
                InjectErrorRule.on(WRITE_AIO).withOnce(true).withErrno(Errno.ENOSPC),
                InjectErrorRule.on(WRITE_AIO).withErrno(Errno.EPERM)));
        assertEquals(Errno.ENOSPC, write(e, 0, 512));
        assertEquals(Errno.EPERM, e.check(IoType.READ, Operation.READ, 0, 512));
        assertEquals(Errno.EPERM, write(e, 0, 512));
    }

    @Test
    void sectorMatchesTheFirstByteOfTheSectorOnly() {
        BlkdebugEngine e = new BlkdebugEngine(
                List.of(InjectErrorRule.on(NONE).withSector(2).withIoType(IoType.READ)));
        assertEquals(0, e.check(IoType.READ, Operation.READ, 0, 1024));
        assertEquals(0, e.check(IoType.READ, Operation.READ, 1023, 1));
        assertEquals(Errno.EIO, e.check(IoType.READ, Operation.READ, 1024, 1));
        assertEquals(0, e.check(IoType.READ, Operation.READ, 1025, 1), "inside sector 2 but past its first byte");
        assertEquals(Errno.EIO, e.check(IoType.READ, Operation.READ, 0, 1 << 20));
        assertEquals(0, e.check(IoType.READ, Operation.READ, 1024, 0), "zero length covers nothing");
    }

    @Test
    void flushIsFailedOnlyByRulesWithoutSector() {
        BlkdebugEngine withSector =
                new BlkdebugEngine(List.of(InjectErrorRule.on(NONE).withSector(0)));
        assertEquals(0, withSector.check(IoType.FLUSH, Operation.FLUSH, 0, 0));
        assertEquals(Errno.EIO, withSector.check(IoType.WRITE, Operation.WRITE, 0, 512));
        BlkdebugEngine any = new BlkdebugEngine(List.of(InjectErrorRule.on(NONE)));
        assertEquals(Errno.EIO, any.check(IoType.FLUSH, Operation.FLUSH, 0, 0));
    }

    @Test
    void iotypeSelectsRequestTypes() {
        BlkdebugEngine e = new BlkdebugEngine(List.of(InjectErrorRule.on(NONE).withIoType(IoType.BLOCK_STATUS)));
        for (IoType t : IoType.values()) {
            assertEquals(t == IoType.BLOCK_STATUS ? Errno.EIO : 0, e.check(t, Operation.READ, 0, 512), t.qapiName());
        }
    }

    @Test
    void noneFiresOnceWhenTheEngineIsCreated() {
        BlkdebugEngine e = new BlkdebugEngine(List.of(new SetStateRule(NONE, 1, 7)));
        assertEquals(7, e.state());
    }

    @Test
    void immediatelyFailsTheRequestJustTheSame() throws Exception {
        BlkdebugEngine e = new BlkdebugEngine(
                List.of(InjectErrorRule.on(WRITE_AIO).withImmediately(true).withErrno(Errno.ENOSPC)));
        assertEquals(Errno.ENOSPC, write(e, 0, 512));
        assertEquals(Errno.ENOSPC, write(e, 0, 512));
    }

    @Test
    void addingRulesAtRunTimeAppendsAndResetsTheState() throws Exception {
        BlkdebugEngine e = new BlkdebugEngine(List.of(
                new SetStateRule(WRITE_AIO, 1, 2), InjectErrorRule.on(READ_AIO).withErrno(Errno.EPERM)));
        write(e, 0, 512);
        assertEquals(2, e.state());
        assertEquals(Errno.EPERM, read(e, 0, 512));
        // The example rule of the blkdebug QMP patch of 2014: inject on write_aio in state 1.
        e.addRules(List.of(InjectErrorRule.on(WRITE_AIO).withState(1).withImmediately(true)));
        assertEquals(1, e.state());
        assertEquals(3, e.rules().size());
        assertEquals(Errno.EPERM, e.check(IoType.READ, Operation.READ, 0, 512), "armed rules stay armed");
        assertEquals(Errno.EIO, write(e, 0, 512), "write_aio in state 1 arms the new rule");
        // appended: an older rule on the same event comes first
        e.addRules(List.of(InjectErrorRule.on(WRITE_AIO).withErrno(Errno.ENOSPC)));
        assertEquals(Errno.EIO, write(e, 0, 512), "state was reset to 1: the first-defined rule still wins");
    }

    @Test
    void clearRulesDisarmsEverything() throws Exception {
        BlkdebugEngine e = new BlkdebugEngine(List.of(InjectErrorRule.on(NONE), new SetStateRule(WRITE_AIO, 0, 5)));
        write(e, 0, 512);
        e.clearRules();
        assertFalse(e.isEngaged());
        assertEquals(0, read(e, 0, 512));
        assertEquals(1, e.state());
        assertEquals(List.of(), e.activeRules());
    }

    @Test
    void listenerHearsInjectedErrors() throws Exception {
        BlkdebugEngine e =
                new BlkdebugEngine(List.of(InjectErrorRule.on(FLUSH_TO_OS).withErrno(Errno.ENOSPC)));
        List<InjectedError> seen = new ArrayList<>();
        e.addListener(new BlkdebugListener() {
            @Override
            public void errorInjected(InjectedError error) {
                seen.add(error);
            }
        });
        e.fire(FLUSH_TO_OS, Operation.WRITE_FUA, 4096, 512);
        assertEquals(Errno.ENOSPC, e.check(IoType.FLUSH, Operation.WRITE_FUA, 0, 0));
        assertEquals(
                List.of(new InjectedError(
                        Operation.WRITE_FUA,
                        IoType.FLUSH,
                        0,
                        0,
                        Errno.ENOSPC,
                        InjectErrorRule.on(FLUSH_TO_OS).withErrno(Errno.ENOSPC))),
                seen);
        assertEquals("write", seen.getFirst().ioOperation());
    }

    /**
     * Against a straightforward model of QEMU's lists (rules head-inserted per event, active rules
     * head-inserted, state applied after the loop), random rule sets and event/check sequences
     * must give the same answers.
     */
    @Test
    void agreesWithAModelOfQemusLists() throws Exception {
        long seed = 20240611L;
        SplittableRandom random = new SplittableRandom(seed);
        BlkdebugEvent[] events = {READ_AIO, WRITE_AIO, FLUSH_TO_OS, BlkdebugEvent.PWRITEV};
        for (int round = 0; round < 300; round++) {
            List<Rule> rules = new ArrayList<>();
            int n = 1 + random.nextInt(10);
            for (int i = 0; i < n; i++) {
                BlkdebugEvent ev = events[random.nextInt(events.length)];
                int state = random.nextInt(4);
                if (random.nextBoolean()) {
                    rules.add(new SetStateRule(ev, state, random.nextInt(4)));
                } else {
                    IoType t = IoType.values()[random.nextInt(IoType.values().length)];
                    rules.add(new InjectErrorRule(
                            ev,
                            state,
                            java.util.EnumSet.of(t),
                            random.nextInt(3) * 14,
                            random.nextInt(6) - 2,
                            random.nextBoolean(),
                            false));
                }
            }
            BlkdebugEngine engine = new BlkdebugEngine(rules);
            QemuModel model = new QemuModel(rules);
            for (int step = 0; step < 30; step++) {
                String where = "seed " + seed + " round " + round + " step " + step + " rules " + rules;
                if (random.nextBoolean()) {
                    BlkdebugEvent ev = events[random.nextInt(events.length)];
                    engine.fire(ev, Operation.READ, 0, 0);
                    model.event(ev);
                    assertEquals(model.state, engine.state(), where);
                } else {
                    IoType t = IoType.values()[random.nextInt(IoType.values().length)];
                    long offset = random.nextInt(9) * 256L;
                    long bytes = random.nextInt(9) * 256L;
                    assertEquals(model.check(t, offset, bytes), engine.check(t, Operation.READ, offset, bytes), where);
                }
            }
            assertEquals(model.remainingRules(), engine.rules().size(), "seed " + seed + " round " + round);
        }
    }

    /** QEMU's data structures, transcribed as plainly as possible (the reference for the test above). */
    private static final class QemuModel {
        final List<List<Rule>> byEvent = new ArrayList<>();
        List<InjectErrorRule> active = new ArrayList<>();
        int state = 1;

        QemuModel(List<Rule> rules) {
            for (int i = 0; i < BlkdebugEvent.values().length; i++) {
                byEvent.add(new ArrayList<>());
            }
            // QEMU adds inject-error rules first, then set-state ones, each QLIST_INSERT_HEAD.
            for (Rule r : rules) {
                if (r instanceof InjectErrorRule) {
                    byEvent.get(r.event().ordinal()).addFirst(r);
                }
            }
            for (Rule r : rules) {
                if (r instanceof SetStateRule) {
                    byEvent.get(r.event().ordinal()).addFirst(r);
                }
            }
            event(NONE);
        }

        void event(BlkdebugEvent ev) {
            int newState = state;
            int injects = 0;
            for (Rule r : byEvent.get(ev.ordinal())) {
                if (r.state() != 0 && r.state() != state) {
                    continue;
                }
                if (r instanceof InjectErrorRule ie) {
                    if (++injects == 1) {
                        active = new ArrayList<>();
                    }
                    active.addFirst(ie);
                } else {
                    newState = ((SetStateRule) r).newState();
                }
            }
            state = newState;
        }

        int check(IoType t, long offset, long bytes) {
            InjectErrorRule hit = null;
            for (InjectErrorRule r : active) {
                long at = r.sector() == -1 ? -1 : r.sector() * 512;
                boolean where = at == -1
                        || (bytes != 0
                                && Long.compareUnsigned(at, offset) >= 0
                                && Long.compareUnsigned(at, offset + bytes) < 0);
                if (where && r.ioTypes().contains(t)) {
                    hit = r;
                    break;
                }
            }
            if (hit == null || hit.errno() == 0) {
                return 0;
            }
            if (hit.once()) {
                removeItself(active, hit);
                removeItself(byEvent.get(hit.event().ordinal()), hit);
            }
            return hit.errno();
        }

        /** QEMU unlinks the node that fired; an equal rule elsewhere in the list stays. */
        @SuppressWarnings("ReferenceEquality") // identity is the point: equal records are distinct rules here
        private static void removeItself(List<? extends Rule> list, Rule rule) {
            list.removeIf(x -> x == rule);
        }

        int remainingRules() {
            int n = 0;
            for (List<Rule> l : byEvent) {
                n += l.size();
            }
            return n;
        }
    }
}
