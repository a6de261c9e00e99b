package dev.faultdisk.server;

import dev.faultdisk.fault.FaultJournal;
import dev.faultdisk.wire.FileErrors;
import dev.faultdisk.wire.json.Json;
import dev.faultdisk.wire.net.RateLimitedLog;
import java.io.BufferedWriter;
import java.io.IOException;
import java.lang.System.Logger.Level;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.BiConsumer;

/**
 * Writes the fault journal to a file as JSON lines. Entries are queued by the requests that
 * produce them and written by one thread, which flushes whenever the queue runs dry: a burst of
 * faults costs one write, and a quiet journal is on disk within moments.
 *
 * <p>The queue is bounded: a file slower than the faults loses entries (counted) rather than
 * memory. A write error stops the file for good, with a log line and an event; the in-memory
 * journal goes on, and what the file would have got is counted as dropped.
 */
final class JournalFile implements AutoCloseable {
    private static final System.Logger LOG = System.getLogger(JournalFile.class.getName());
    private static final RateLimitedLog BEHIND = new RateLimitedLog(LOG, 10_000);
    /** Entries waiting for the file at most. */
    static final int QUEUE_CAPACITY = 65_536;
    /** Queued by close: everything before it is written. */
    private static final Object END = new Object();

    private final Path path;
    private final BufferedWriter out;
    private final ArrayBlockingQueue<Object> queue = new ArrayBlockingQueue<>(QUEUE_CAPACITY);
    private final Thread writer;
    private final AtomicLong dropped = new AtomicLong();
    private volatile boolean stopped;
    private volatile BiConsumer<String, Long> onFailure = (error, count) -> {};

    JournalFile(Path path) throws IOException {
        this.path = path;
        try {
            this.out = Files.newBufferedWriter(path, StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new IOException("cannot write the fault journal " + path + ": " + FileErrors.reason(e), e);
        }
        this.writer = Thread.ofPlatform().name("fault-journal").daemon(true).start(this::drain);
    }

    /** Called once if writing fails: the error and the entries dropped so far. */
    void onFailure(BiConsumer<String, Long> listener) {
        this.onFailure = listener;
    }

    /** Queues an entry (called in journal order); this file's thread turns it into JSON. */
    void append(FaultJournal.Entry entry) {
        if (stopped) {
            dropped.incrementAndGet();
            return;
        }
        if (!queue.offer(entry)) {
            long n = dropped.incrementAndGet();
            BEHIND.log(
                    Level.WARNING,
                    "behind",
                    "fault journal " + path + ": the file falls behind; " + n + " entries dropped so far");
        }
    }

    /** Entries the file did not get. */
    long dropped() {
        return dropped.get();
    }

    /** Whether a write failed and the file stopped. */
    boolean stopped() {
        return stopped;
    }

    private void drain() {
        List<Object> batch = new ArrayList<>();
        try {
            while (true) {
                batch.add(queue.take());
                queue.drainTo(batch);
                for (int i = 0; i < batch.size(); i++) {
                    Object e = batch.get(i);
                    if (e == END) {
                        out.flush();
                        return;
                    }
                    try {
                        out.write(Json.write(((FaultJournal.Entry) e).toMap()));
                        out.write('\n');
                    } catch (IOException failure) {
                        dropped.addAndGet(batch.size() - i);
                        throw failure;
                    }
                }
                batch.clear();
                out.flush();
            }
        } catch (IOException e) {
            stopped = true;
            dropped.addAndGet(queue.size());
            queue.clear();
            LOG.log(
                    Level.ERROR,
                    "fault journal " + path + ": write failed (" + e.getMessage() + "); the file is stopped, "
                            + dropped.get() + " entries dropped so far; the in-memory journal goes on");
            onFailure.accept(String.valueOf(e.getMessage()), dropped.get());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** Writes what is queued, then closes the file. */
    @Override
    public void close() throws IOException {
        try {
            if (!stopped && !queue.offer(END, 5, TimeUnit.SECONDS)) {
                LOG.log(Level.WARNING, "fault journal {0}: could not finish writing", path);
            }
            writer.join(5000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        if (dropped.get() > 0) {
            LOG.log(Level.WARNING, "fault journal {0}: {1} entries were not written", path, dropped.get());
        }
        try {
            out.close();
        } catch (IOException e) {
            if (!stopped) {
                throw e;
            }
        }
    }
}
