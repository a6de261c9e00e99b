package dev.faultdisk.server;

import dev.faultdisk.qmp.json.Json;

import java.io.BufferedWriter;
import java.io.IOException;
import java.lang.System.Logger.Level;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.LinkedBlockingQueue;

/**
 * Writes the fault journal to a file as JSON lines. Entries are queued by the requests that
 * produce them and written by one thread, which flushes whenever the queue runs dry: a burst of
 * faults costs one write, and a quiet journal is on disk within moments.
 */
final class JournalFile implements AutoCloseable {
    private static final System.Logger LOG = System.getLogger(JournalFile.class.getName());
    private static final Map<String, Object> END = Map.of();

    private final Path path;
    private final BufferedWriter out;
    private final LinkedBlockingQueue<Map<String, Object>> queue = new LinkedBlockingQueue<>();
    private final Thread writer;

    JournalFile(Path path) throws IOException {
        this.path = path;
        this.out = Files.newBufferedWriter(path, StandardCharsets.UTF_8);
        this.writer = Thread.ofPlatform().name("fault-journal").daemon(true).start(this::drain);
    }

    /** Queues an entry (called in journal order). */
    void append(Map<String, Object> entry) {
        queue.add(entry);
    }

    private void drain() {
        List<Map<String, Object>> batch = new ArrayList<>();
        try {
            while (true) {
                batch.add(queue.take());
                queue.drainTo(batch);
                for (Map<String, Object> e : batch) {
                    if (e == END) {
                        out.flush();
                        return;
                    }
                    out.write(Json.write(e));
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
