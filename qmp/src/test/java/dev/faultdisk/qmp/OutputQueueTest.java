package dev.faultdisk.qmp;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

/** The event gate: closed until the reply that ends negotiation is queued, then open in the same step. */
class OutputQueueTest {

    @Test
    void eventsWaitForTheNegotiationReplyAndNeverOvertakeIt() throws Exception {
        OutputQueue queue = new OutputQueue(1024);
        assertTrue(queue.offer(bytes("greeting")));
        assertTrue(queue.offerEvent(bytes("too early")), "an event before negotiation is no failure");
        assertFalse(queue.eventsOpen());
        assertTrue(queue.put(bytes("an error reply")));
        assertTrue(queue.offerEvent(bytes("still too early")));
        assertTrue(queue.putOpeningEvents(bytes("negotiated")));
        assertTrue(queue.eventsOpen());
        assertTrue(queue.offerEvent(bytes("event")));
        for (String expected : new String[] {"greeting", "an error reply", "negotiated", "event"}) {
            assertEquals(expected, new String(queue.take(), StandardCharsets.US_ASCII));
        }
        queue.finish();
        assertNull(queue.take());
    }

    @Test
    void anEventWithNoRoomIsRefusedOnceEventsAreOpen() throws Exception {
        OutputQueue queue = new OutputQueue(16);
        assertTrue(queue.putOpeningEvents(bytes("negotiated")));
        assertFalse(queue.offerEvent(bytes("an event too big")));
        assertTrue(queue.isFull());
        queue.close();
        assertFalse(queue.offerEvent(bytes("x")));
        assertFalse(queue.isFull());
    }

    private static byte[] bytes(String text) {
        return text.getBytes(StandardCharsets.US_ASCII);
    }
}
