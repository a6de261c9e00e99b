package dev.faultdisk.qmp;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

/**
 * The event gate (closed until the reply that ends negotiation is queued, then open in the same
 * step) and events dropped for want of room.
 */
class OutputQueueTest {

    @Test
    void eventsWaitForTheNegotiationReplyAndNeverOvertakeIt() throws Exception {
        OutputQueue queue = new OutputQueue(1024);
        assertTrue(queue.offer(bytes("greeting")));
        assertEquals(OutputQueue.EventOutcome.IGNORED, queue.offerEvent(bytes("too early")));
        assertFalse(queue.eventsOpen());
        assertTrue(queue.put(bytes("an error reply")));
        assertEquals(OutputQueue.EventOutcome.IGNORED, queue.offerEvent(bytes("still too early")));
        assertTrue(queue.putOpeningEvents(bytes("negotiated")));
        assertTrue(queue.eventsOpen());
        assertEquals(OutputQueue.EventOutcome.QUEUED, queue.offerEvent(bytes("event")));
        for (String expected : new String[] {"greeting", "an error reply", "negotiated", "event"}) {
            assertEquals(expected, new String(queue.take(), StandardCharsets.US_ASCII));
        }
        queue.finish();
        assertNull(queue.take());
    }

    @Test
    void eventsWithNoRoomAreDroppedAndCountedUntilTheQueueHasDrainedToHalfAndTheNoticeIsIn() throws Exception {
        OutputQueue queue = new OutputQueue(64);
        assertEquals(OutputQueue.EventOutcome.IGNORED, queue.offerEvent(bytes("before negotiation")));
        assertTrue(queue.putOpeningEvents(bytes("negotiated")));
        assertEquals(OutputQueue.EventOutcome.QUEUED, queue.offerEvent(bytes("event 1 ------------")));
        assertEquals(OutputQueue.EventOutcome.QUEUED, queue.offerEvent(bytes("event 2 ------------")));
        assertEquals(OutputQueue.EventOutcome.DROPPED, queue.offerEvent(bytes("event 3 ------------")));
        // Room for a small one, but the gap's notice must come first: dropped too.
        assertEquals(OutputQueue.EventOutcome.DROPPED, queue.offerEvent(bytes("e4")));
        assertEquals(2, queue.eventsDropped());
        assertFalse(queue.offerDropNotice(OutputQueueTest::notice), "no room below half the bound yet");

        assertEquals("negotiated", text(queue.take()));
        assertFalse(queue.noticeDue(), "40 bytes queued: more than half of 64");
        assertEquals(OutputQueue.EventOutcome.DROPPED, queue.offerEvent(bytes("e5")));
        assertEquals("event 1 ------------", text(queue.take()));
        assertFalse(
                queue.offerDropNotice(OutputQueueTest::notice), "20 bytes queued and a notice of 16: more than half");
        assertEquals("event 2 ------------", text(queue.take()));
        assertTrue(queue.noticeDue());
        assertTrue(queue.offerDropNotice(OutputQueueTest::notice));
        assertFalse(queue.offerDropNotice(OutputQueueTest::notice), "nothing more to announce");
        assertEquals(OutputQueue.EventOutcome.QUEUED, queue.offerEvent(bytes("e6")));
        assertEquals("dropped 3 events", text(queue.take()));
        assertEquals("e6", text(queue.take()));
        assertEquals(3, queue.eventsDropped());
        assertEquals(5, queue.taken());

        queue.close();
        assertEquals(OutputQueue.EventOutcome.IGNORED, queue.offerEvent(bytes("x")));
        assertEquals(3, queue.eventsDropped(), "a closed queue loses nothing it could have sent");
    }

    private static byte[] notice(long count) {
        return bytes("dropped " + count + " events");
    }

    private static String text(byte[] line) {
        return new String(line, StandardCharsets.US_ASCII);
    }

    private static byte[] bytes(String text) {
        return text.getBytes(StandardCharsets.US_ASCII);
    }
}
