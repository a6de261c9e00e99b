package dev.faultdisk.device;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import dev.faultdisk.wire.BlockOp;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class WriteTurnsTest {
    private static final int LARGE = WriteTurns.MIN_LENGTH;

    @TempDir
    Path dir;

    /** A thread each: the common pool may run one task at a time on a small machine. */
    private final ExecutorService threads = Executors.newCachedThreadPool();

    @AfterEach
    void stopThreads() {
        threads.shutdownNow();
    }

    @Test
    void aWriterHandingOverItsTurnGoesBehindThoseAlreadyWaiting() {
        WriteTurns turns = new WriteTurns(true, 0);
        ConcurrentLinkedQueue<String> order = new ConcurrentLinkedQueue<>();
        int mine = turns.begin(LARGE);
        assertEquals(WriteTurns.TURN, mine);
        List<CompletableFuture<Void>> others = new ArrayList<>();
        for (String name : List.of("b", "c", "d")) {
            int before = turns.waiting();
            others.add(CompletableFuture.runAsync(
                    () -> {
                        int began = turns.begin(LARGE);
                        order.add(name);
                        turns.end(began);
                    },
                    threads));
            await().atMost(Duration.ofSeconds(10)).until(() -> turns.waiting() == before + 1);
        }
        // Hands the turn over and asks again at once: a lock that lets a running thread barge
        // would give it straight back, ahead of the three asleep on it.
        turns.end(mine);
        int again = turns.begin(LARGE);
        order.add("a");
        turns.end(again);
        others.forEach(CompletableFuture::join);
        assertEquals(List.of("b", "c", "d", "a"), List.copyOf(order));
    }

    @Test
    void turnsStartPastTheirWritersAndNeverForSmallWritesOrOtherFiles() {
        WriteTurns turns = new WriteTurns(true, 2);
        assertEquals(WriteTurns.NONE, turns.begin(LARGE - 1), "a small write goes straight");
        int first = turns.begin(LARGE);
        int second = turns.begin(LARGE);
        assertEquals(List.of(WriteTurns.COUNTED, WriteTurns.COUNTED), List.of(first, second));
        int third = turns.begin(LARGE);
        assertEquals(WriteTurns.TURN, third, "the third writer at the file takes a turn");
        turns.end(third);
        turns.end(second);
        turns.end(first);
        assertEquals(WriteTurns.COUNTED, turns.begin(LARGE), "counts given back: below the mark again");

        assertEquals(WriteTurns.NONE, new WriteTurns(false, 0).begin(LARGE), "not a regular file");
        assertEquals(WriteTurns.NONE, new WriteTurns(true, -1).begin(LARGE), "turned off");
    }

    @Test
    void anImageFilesLargeWritesWaitForTheirTurn() throws Exception {
        Path image = dir.resolve("turns.img");
        try (FileDevice d = FileDevice.open(image, 4L * LARGE, false)) {
            WriteTurns turns = d.turns();
            // As many writers at the file as turns wait for, and one more holding the turn.
            List<Integer> held = new ArrayList<>();
            int turn = WriteTurns.NONE;
            for (int i = 0; i < 1000 && turn != WriteTurns.TURN; i++) {
                turn = turns.begin(LARGE);
                held.add(turn);
            }
            assertEquals(WriteTurns.TURN, turn, "an image file's large writes take turns past some writers");

            byte[] plain = Io.filled(LARGE, 3);
            byte[] staged = Io.filled(LARGE, 5);
            CompletableFuture<Void> write = CompletableFuture.runAsync(
                    () -> {
                        try {
                            Io.write(d, 0, plain, false);
                        } catch (IOException e) {
                            throw new RuntimeException(e);
                        }
                    },
                    threads);
            await().atMost(Duration.ofSeconds(10)).until(() -> turns.waiting() == 1);
            CompletableFuture<Boolean> stagedWrite = CompletableFuture.supplyAsync(
                    () -> {
                        try {
                            return d.writeStaged(
                                    BlockRequest.of(BlockOp.WRITE, LARGE, LARGE, 0, 0, true), new FilePayload(staged));
                        } catch (IOException e) {
                            throw new RuntimeException(e);
                        }
                    },
                    threads);
            await().atMost(Duration.ofSeconds(10)).until(() -> turns.waiting() == 2);
            assertFalse(write.isDone() || stagedWrite.isDone(), "both wait while the turn is held");

            held.reversed().forEach(turns::end);
            write.join();
            assertEquals(true, stagedWrite.join());
            byte[] written = Files.readAllBytes(image);
            assertArrayEquals(plain, Arrays.copyOfRange(written, 0, LARGE));
            assertArrayEquals(staged, Arrays.copyOfRange(written, LARGE, 2 * LARGE));
        }
    }

    /** A staged payload held in the process, written through the channel. */
    private record FilePayload(byte[] bytes) implements StagedPayload {
        @Override
        public void writeTo(FileChannel file, int fd, long offset) throws IOException {
            ByteBuffer src = ByteBuffer.wrap(bytes);
            while (src.hasRemaining()) {
                offset += file.write(src, offset);
            }
        }

        @Override
        public void readInto(ByteBuffer dst) {
            dst.put(bytes, 0, dst.remaining());
        }
    }
}
