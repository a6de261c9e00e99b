package dev.faultdisk.server;

import dev.faultdisk.fault.FaultJournal;
import dev.faultdisk.wire.json.Json;
import java.io.BufferedWriter;
import java.io.IOException;
import java.lang.System.Logger.Level;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.LinkedBlockingQueue;

/**
 * Writes the fault journal to a file as JSON lines. Entries are queued by the requests that
 * produce them and written by one thread, which flushes whenever the queue runs dry: a burst of
 * faults costs one write, and a quiet journal is on disk within moments.
 */
final class JournalFile implements AutoCloseable {
    private static final System.Logger LOG = System.getLogger(JournalFile.class.getName());
    /** Queued by close: everything before it is written. */
    private static final Object END = new Object();

    private final Path path;
    private final BufferedWriter out;
    private final LinkedBlockingQueue<Object> queue = new LinkedBlockingQueue<>();
    private final Thread writer;

    JournalFile(Path path) throws IOException {
        this.path = path;
        this.out = Files.newBufferedWriter(path, StandardCharsets.UTF_8);
        this.writer = Thread.ofPlatform().name("fault-journal").daemon(true).start(this::drain);
    }

    /** Queues an entry (called in journal order); this file's thread turns it into JSON. */
    void append(FaultJournal.Entry entry) {
        queue.add(entry);
    }

    private void drain() {
        List<Object> batch = new ArrayList<>();
        try {
            while (true) {
                batch.add(queue.take());
                queue.drainTo(batch);
                for (Object e : batch) {
                    if (e == END) {
                        out.flush();
                        return;
                    }
                    out.write(Json.write(((FaultJournal.Entry) e).toMap()));
                    out.write('\n');
                }
                batch.clear();
                out.flush();
            }
        } catch (IOException e) {
            LOG.log(Level.ERROR, "fault journal " + path + ": write failed, journal stopped", e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** Writes what is queued, then closes the file. */
    @Override
    public void close() throws IOException {
        queue.add(END);
        try {
            writer.join(5000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        out.close();
    }
}
