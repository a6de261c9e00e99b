package dev.faultdisk.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.faultdisk.client.BlkdebugRule;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Rules and durations as written on the command line. */
class RuleSpecTest {

    @Test
    void injectErrorTakesEveryKey() {
        assertEquals(
                BlkdebugRule.injectError("write_aio")
                        .errno(28)
                        .once()
                        .immediately()
                        .state(2)
                        .sector(8)
                        .iotype("write", "flush"),
                RuleSpec.injectError("write_aio,errno=ENOSPC,once,immediately,state=2,sector=8,iotype=write+flush"));
        assertEquals(BlkdebugRule.injectError("read_aio"), RuleSpec.injectError("read_aio,once=false"));
        assertEquals(BlkdebugRule.injectError("read_aio").errno(5), RuleSpec.injectError("read_aio,errno=5"));
    }

    @Test
    void setStateNeedsTheNewState() {
        assertEquals(
                BlkdebugRule.setState("flush_to_disk", 1, 2), RuleSpec.setState("flush_to_disk,state=1,new-state=2"));
        assertEquals(BlkdebugRule.setState("none", 3), RuleSpec.setState("none,new_state=3"));
        IllegalArgumentException e =
                assertThrows(IllegalArgumentException.class, () -> RuleSpec.setState("none,state=1"));
        assertTrue(e.getMessage().contains("needs new-state=N"), e.getMessage());
    }

    @Test
    void mistakesSayWhatIsWrong() {
        for (String[] c : List.of(
                new String[] {"write_aio,bogus", "unknown 'bogus'"},
                new String[] {",once", "needs an event first"},
                new String[] {"write_aio,errno", "errno needs a value"},
                new String[] {"write_aio,errno=EWHAT", "unknown errno 'EWHAT'"},
                new String[] {"write_aio,state=x", "state must be a number, not 'x'"},
                new String[] {"write_aio,state=99999999999", "state is out of range"},
                new String[] {"write_aio,once=maybe", "once takes no value"})) {
            IllegalArgumentException e =
                    assertThrows(IllegalArgumentException.class, () -> RuleSpec.injectError(c[0]), c[0]);
            assertTrue(e.getMessage().contains(c[1]), c[0] + ": " + e.getMessage());
        }
    }

    @Test
    void jsonRulesAreTakenAsTheServerWouldTakeThem() {
        assertEquals(
                List.of(BlkdebugRule.injectError("write_aio").once(), BlkdebugRule.setState("none", 2)),
                RuleSpec.json(
                        "[{\"type\": \"inject-error\", \"event\": \"write_aio\", \"once\": true},"
                                + " {\"type\": \"set-state\", \"event\": \"none\", \"new_state\": 2}]",
                        "--rules"));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> RuleSpec.json("{}", "--rules"));
        assertTrue(e.getMessage().contains("expected a JSON array"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> RuleSpec.json("[1]", "f.json"));
        assertEquals("f.json: every rule must be an object, not an integer", e.getMessage());
    }

    @Test
    void durations() {
        assertEquals(Duration.ofMillis(250), Durations.parse("250ms"));
        assertEquals(Duration.ofMillis(1500), Durations.parse("1.5s"));
        assertEquals(Duration.ofMinutes(2), Durations.parse("2m"));
        assertEquals(Duration.ofHours(1), Durations.parse("1h"));
        @SuppressWarnings("CanonicalDuration") // given in seconds on purpose: format must find the minutes itself
        Duration seconds120 = Duration.ofSeconds(120);
        assertEquals("2m", Durations.format(seconds120));
        assertEquals("1500ms", Durations.format(Duration.ofMillis(1500)));
        assertEquals("0s", Durations.format(Duration.ZERO));
        for (String bad : List.of("5", "5 s", "-1s", "s", "1.s", "5x")) {
            assertThrows(IllegalArgumentException.class, () -> Durations.parse(bad), bad);
        }
    }
}
