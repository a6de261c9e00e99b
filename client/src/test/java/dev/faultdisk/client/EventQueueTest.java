package dev.faultdisk.client;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The server's notices of events it dropped for this client are summed, and still delivered. */
class EventQueueTest {

    @Test
    void theServersDropNoticesAreSummedAndQueuedLikeAnyEvent() {
        EventQueue queue = new EventQueue(100);
        queue.add("FAULT_INJECTED", Map.of("count", 40L), Instant.EPOCH);
        queue.add("EVENTS_DROPPED", Map.of("count", 5L), Instant.EPOCH);
        queue.add("EVENTS_DROPPED", Map.of("count", 7L), Instant.EPOCH);
        queue.add("EVENTS_DROPPED", Map.of(), Instant.EPOCH);

        assertEquals(12, queue.serverDropped(), "only EVENTS_DROPPED counts");
        assertEquals(0, queue.dropped(), "the client's own queue dropped nothing");
        Event first = queue.await(0, e -> e.name().equals("EVENTS_DROPPED"), Duration.ofSeconds(1), "a notice");
        assertEquals(5L, first.data().get("count"));
    }

    @Test
    void aWaitThatRunsOutSaysWhatWasLost() {
        EventQueue queue = new EventQueue(2);
        queue.add("EVENTS_DROPPED", Map.of("count", 3L), Instant.EPOCH);
        queue.add("FAULT_INJECTED", Map.of(), Instant.EPOCH);
        queue.add("FAULT_INJECTED", Map.of(), Instant.EPOCH);
        FaultdiskTimeoutException e = assertThrows(
                FaultdiskTimeoutException.class,
                () -> queue.await(0, ev -> ev.name().equals("POWER_FAIL"), Duration.ofMillis(1), "POWER_FAIL"));
        assertEquals(
                "no POWER_FAIL within 1 ms; the server dropped 3 events for this client, which fell behind; "
                        + "1 events left this client's queue unread (it holds 2)",
                e.getMessage());
    }
}
