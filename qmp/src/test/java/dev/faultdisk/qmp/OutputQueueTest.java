package dev.faultdisk.qmp;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The event gate (closed until the reply that ends negotiation is queued, then open in the same
 * step), events dropped for want of room, a flood of events taken in batches, and replies written
 * by their maker when nothing is queued before them.
 */
@Timeout(60)
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
            assertEquals(expected, new String(take(queue), StandardCharsets.US_ASCII));
        }
        queue.finish();
        assertNull(take(queue));
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

        assertEquals("negotiated", text(take(queue)));
        assertFalse(queue.noticeDue(), "40 bytes queued: more than half of 64");
        assertEquals(OutputQueue.EventOutcome.DROPPED, queue.offerEvent(bytes("e5")));
        assertEquals("event 1 ------------", text(take(queue)));
        assertFalse(
                queue.offerDropNotice(OutputQueueTest::notice), "20 bytes queued and a notice of 16: more than half");
        assertEquals("event 2 ------------", text(take(queue)));
        assertTrue(queue.noticeDue());
        assertTrue(queue.offerDropNotice(OutputQueueTest::notice));
        assertFalse(queue.offerDropNotice(OutputQueueTest::notice), "nothing more to announce");
        assertEquals(OutputQueue.EventOutcome.QUEUED, queue.offerEvent(bytes("e6")));
        assertEquals("dropped 3 events", text(take(queue)));
        assertEquals("e6", text(take(queue)));
        assertEquals(3, queue.eventsDropped());
        assertEquals(5, queue.taken());

        queue.close();
        assertEquals(OutputQueue.EventOutcome.IGNORED, queue.offerEvent(bytes("x")));
        assertEquals(3, queue.eventsDropped(), "a closed queue loses nothing it could have sent");
    }

    /** An hour: a take that returns before it was cut short by what the test did, not by time. */
    private static final long HOUR = Duration.ofHours(1).toNanos();

    @Test
    void aLoneEventGoesAtOnceAndOneThatFollowsWaitsForMoreUntilAReplyIsQueued() throws Exception {
        AtomicLong clock = new AtomicLong(1_000_000);
        OutputQueue queue = new OutputQueue(1024, HOUR, clock::get);
        assertTrue(queue.putOpeningEvents(bytes("negotiated")));
        assertEquals(List.of("negotiated"), texts(queue.takeBatch(4096)), "the first take does not wait");
        clock.addAndGet(2 * HOUR); // a quiet spell
        queue.offerEvent(bytes("lone"));
        assertEquals(List.of("lone"), texts(queue.takeBatch(4096)), "an event after a quiet spell goes at once");

        // Right after that take, events flow: the next take waits for more instead of sending each.
        queue.offerEvent(bytes("e1"));
        CompletableFuture<List<byte[]>> batch = takeElsewhere(queue);
        queue.offerEvent(bytes("e2"));
        queue.offerEvent(bytes("e3"));
        assertTrue(lingers(batch), "three events queued, no reply: the writer still waits for more");
        assertTrue(queue.put(bytes("reply")));
        assertEquals(List.of("e1", "e2", "e3", "reply"), texts(batch.get(10, TimeUnit.SECONDS)));
        assertEquals(6, queue.taken());
    }

    @Test
    void aLingerEndsWhenTheQueueIsHalfFullOrEndsAndABatchKeepsToItsSize() throws Exception {
        AtomicLong clock = new AtomicLong();
        OutputQueue queue = new OutputQueue(100, HOUR, clock::get);
        assertTrue(queue.putOpeningEvents(bytes("negotiated")));
        assertEquals(1, queue.takeBatch(4096).size());
        queue.offerEvent(bytes("0123456789"));
        CompletableFuture<List<byte[]>> batch = takeElsewhere(queue);
        for (int i = 1; i < 4; i++) {
            queue.offerEvent(bytes("012345678" + i));
        }
        assertTrue(lingers(batch), "40 bytes of 100 queued: not yet half");
        queue.offerEvent(bytes("0123456789"));
        assertEquals(3, batch.get(10, TimeUnit.SECONDS).size(), "half full: taken, 30 bytes at most (3 lines)");
        assertEquals(2, queue.takeBatch(30).size(), "what is left, at once: the writer is behind");

        queue.offerEvent(bytes("last"));
        CompletableFuture<List<byte[]>> ending = takeElsewhere(queue);
        assertTrue(lingers(ending));
        queue.finish();
        assertEquals(List.of("last"), texts(ending.get(10, TimeUnit.SECONDS)), "finishing sends what is queued");
        assertNull(queue.takeBatch(30));

        OutputQueue closing = new OutputQueue(100, HOUR, clock::get);
        assertTrue(closing.putOpeningEvents(bytes("negotiated")));
        assertEquals(1, closing.takeBatch(30).size());
        closing.offerEvent(bytes("lost"));
        CompletableFuture<List<byte[]>> closed = takeElsewhere(closing);
        assertTrue(lingers(closed));
        closing.close();
        assertNull(closed.get(10, TimeUnit.SECONDS), "a closed queue's writer ends");
    }

    @Test
    void aReplyWithNothingBeforeItIsWrittenByItsMakerAndTheWriterWaitsForItsEnd() throws Exception {
        OutputQueue queue = new OutputQueue(1024);
        assertTrue(queue.offer(bytes("greeting")));
        assertFalse(queue.claimDirect(false), "the greeting is queued: a reply goes behind it");
        assertEquals("greeting", text(take(queue)));
        assertFalse(queue.claimDirect(false), "the writer has the greeting and may be writing it");

        CompletableFuture<List<byte[]>> next = takeElsewhere(queue);
        // The writer is back for more: the reply that ends negotiation is written by its maker.
        await().atMost(Duration.ofSeconds(10)).until(() -> queue.claimDirect(true));
        assertTrue(queue.eventsOpen(), "the claimed reply opened the queue to events");
        assertEquals(OutputQueue.EventOutcome.QUEUED, queue.offerEvent(bytes("event")));
        assertFalse(queue.claimDirect(false), "one claim at a time");
        assertTrue(lingers(next), "the writer takes nothing while the reply is being written");
        queue.directDone();
        assertEquals(List.of("event"), texts(next.get(10, TimeUnit.SECONDS)), "the event, after the reply");
        assertEquals(3, queue.taken(), "the greeting, the claimed reply and the event");

        assertFalse(queue.claimDirect(false), "the writer has the event: a reply is queued behind it");
        assertTrue(queue.put(bytes("queued reply")));
        assertEquals("queued reply", text(take(queue)));
    }

    @Test
    void aClaimWaitsOutFinishingAndClosingEndsIt() throws Exception {
        OutputQueue queue = new OutputQueue(1024);
        assertTrue(queue.claimDirect(false));
        queue.finish();
        assertFalse(queue.claimDirect(false), "a finishing queue takes nothing more");
        CompletableFuture<List<byte[]>> last = takeElsewhere(queue);
        assertTrue(lingers(last), "the writer does not end (and close the channel) under a reply being written");
        queue.directDone();
        assertNull(last.get(10, TimeUnit.SECONDS), "then it ends: nothing queued");

        OutputQueue closing = new OutputQueue(1024);
        assertTrue(closing.claimDirect(false));
        CompletableFuture<List<byte[]>> closed = takeElsewhere(closing);
        assertTrue(lingers(closed));
        closing.close();
        assertNull(closed.get(10, TimeUnit.SECONDS), "a closed queue's writer ends at once");
        assertFalse(closing.claimDirect(false));
    }

    @Test
    void aLineLongerThanTheBatchIsTakenAlone() throws Exception {
        OutputQueue queue = new OutputQueue(1024);
        assertTrue(queue.putOpeningEvents(bytes("a line of 25 bytes ------")));
        queue.offerEvent(bytes("short"));
        assertEquals(List.of("a line of 25 bytes ------"), texts(queue.takeBatch(10)));
        assertEquals(List.of("short"), texts(queue.takeBatch(10)));
    }

    private static CompletableFuture<List<byte[]>> takeElsewhere(OutputQueue queue) {
        CompletableFuture<List<byte[]>> batch = new CompletableFuture<>();
        Thread.ofPlatform().daemon().start(() -> {
            try {
                batch.complete(queue.takeBatch(30));
            } catch (Throwable e) {
                batch.completeExceptionally(e);
            }
        });
        return batch;
    }

    /** True if the take has not returned after a while (it waits out its hour otherwise). */
    private static boolean lingers(CompletableFuture<List<byte[]>> batch) throws Exception {
        try {
            batch.get(200, TimeUnit.MILLISECONDS);
            return false;
        } catch (TimeoutException expected) {
            return true;
        }
    }

    /** The next line alone, as the writer would take it with no room for a second. */
    private static byte[] take(OutputQueue queue) throws InterruptedException {
        List<byte[]> one = queue.takeBatch(1);
        return one == null ? null : one.getFirst();
    }

    private static List<String> texts(List<byte[]> lines) {
        return lines.stream().map(OutputQueueTest::text).toList();
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
