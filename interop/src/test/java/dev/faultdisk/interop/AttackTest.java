package dev.faultdisk.interop;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.faultdisk.client.FaultdiskClient;
import dev.faultdisk.testkit.ServeProcess;
import java.io.Closeable;
import java.io.IOException;
import java.io.InputStream;
import java.net.Socket;
import java.net.SocketException;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The attacks of docs/SECURITY.md against a real {@code faultdisk serve} process, with its
 * memory read from /proc/PID/status: each used to grow the process without bound or leave it
 * deaf; each now stays within its budget and the server goes on serving others.
 */
class AttackTest {
    private static final long MIB = 1024;
    private static final Duration TIMEOUT = Duration.ofSeconds(30);

    @TempDir
    Path dir;

    /**
     * A server of one memory export "d" of {@code size} on a free NBD port, QMP on {@code qmp}, with
     * {@code more} options, and a 256 MiB heap: without a cap the JVM grows its heap with the
     * garbage a flood makes (not with what it keeps), which would hide what is held.
     */
    private ServeProcess serve(List<String> jvm, String size, String qmp, String... more) throws IOException {
        List<String> options = new ArrayList<>(List.of("-Xmx256m"));
        options.addAll(jvm);
        List<String> args =
                new ArrayList<>(List.of("--export", "d=memory:" + size, "--nbd", "127.0.0.1:0", "--qmp", qmp));
        args.addAll(List.of(more));
        return ServeProcess.startWithJvm(options, dir.resolve("serve.log"), args.toArray(String[]::new));
    }

    /** Adds one fault rule to export "d". */
    private static void addRule(FaultdiskClient qmp, Map<String, Object> rule) {
        qmp.execute("fault-add", Map.of("device", "d", "rules", List.of(rule)));
    }

    /** Closes every connection in {@code open}. */
    private static void closeAll(List<? extends Closeable> open) throws IOException {
        for (Closeable c : open) {
            c.close();
        }
    }

    private static int nbdPort(ServeProcess p) {
        String uri = p.uri("d");
        return Integer.parseInt(uri.substring(uri.lastIndexOf(':') + 1, uri.lastIndexOf('/')));
    }

    /** The highest RSS seen over {@code window}, in KiB. */
    private static long peakRss(ServeProcess p, Duration window) {
        AtomicLong peak = new AtomicLong();
        await("RSS over " + window)
                .during(window)
                .atMost(window.plusSeconds(5))
                .pollInterval(Duration.ofMillis(100))
                .until(() -> {
                    peak.accumulateAndGet(p.rssKib(), Math::max);
                    return true;
                });
        return peak.get();
    }

    /** A 4 KiB write and read back on a fresh connection: the server still serves others. */
    private static void stillServes(int port) throws IOException {
        try (RawNbd c = RawNbd.open(port, "d")) {
            c.header(RawNbd.WRITE, 1, 8192, 4096);
            c.out.write(new byte[4096]);
            c.out.flush();
            assertEquals(0, c.reply(1, 0), "a small write from another client");
            c.header(RawNbd.READ, 2, 8192, 4096);
            assertEquals(0, c.reply(2, 4096), "a small read from another client");
        }
    }

    @Test
    void writeHeadersAnnouncing32MiBWithoutPayloadHoldNoBuffers() throws Exception {
        try (ServeProcess p = serve(List.of(), "64M", "none")) {
            int port = nbdPort(p);
            try (RawNbd warm = RawNbd.open(port, "d")) { // one real 32 MiB write: pools and JIT warm
                warm.header(RawNbd.WRITE, 1, 0, 32 << 20);
                warm.out.write(new byte[32 << 20]);
                warm.out.flush();
                assertEquals(0, warm.reply(1, 0));
            }
            long before = p.rssKib();
            List<RawNbd> attackers = new ArrayList<>();
            try {
                for (int i = 0; i < 50; i++) {
                    RawNbd a = RawNbd.open(port, "d");
                    attackers.add(a);
                    a.header(RawNbd.WRITE, 7, 0, 32 << 20); // and never the payload
                }
                stillServes(port);
                long grown = peakRss(p, Duration.ofSeconds(1)) - before;
                report("50 x 32 MiB WRITE headers, no payload: RSS +" + grown / MIB + " MiB");
                assertTrue(grown <= 64 * MIB, "50 announced 32 MiB writes grew the server by " + grown / MIB + " MiB");
            } finally {
                closeAll(attackers);
            }
        }
    }

    @Test
    void aClientThatNeverReadsRepliesHoldsAtMostItsShareOfThePayloadBudget() throws Exception {
        try (ServeProcess p = serve(List.of(), "64M", "127.0.0.1:0", "--payload-budget", "128M")) {
            int port = nbdPort(p);
            try (FaultdiskClient qmp = FaultdiskClient.connect(p.qmp())) {
                addRule(qmp, Map.of("type", "delay", "ops", List.of("read"), "ms", 10));
            }
            stillServes(port);
            long before = p.rssKib();
            try (RawNbd greedy = RawNbd.open(port, "d")) {
                greedy.socket.setReceiveBufferSize(4096);
                for (int i = 0; i < 100; i++) {
                    greedy.header(RawNbd.READ, i, 0, 32 << 20); // 3.2 GB asked for; never read
                }
                stillServes(port);
                long grown = peakRss(p, Duration.ofSeconds(2)) - before;
                report("100 x 32 MiB READs never read, delay rule, payload budget 128 MiB: RSS +" + grown / MIB
                        + " MiB");
                assertTrue(
                        grown <= 128 * MIB + 16 * MIB,
                        "a never-reading client grew the server by " + grown / MIB + " MiB (payload budget 128 MiB)");
            }
        }
    }

    @Test
    void bareConnectsAreCappedAndTimedOut() throws Exception {
        try (ServeProcess p = serve(List.of(), "1M", "none", "--max-connections", "100", "--handshake-timeout", "2s")) {
            int port = nbdPort(p);
            stillServes(port);
            long rssBefore = p.rssKib();
            long threadsBefore = p.threads();
            List<Socket> idle = new ArrayList<>();
            try {
                for (int i = 0; i < 2000; i++) {
                    idle.add(new Socket("127.0.0.1", port)); // and send nothing
                }
                long rss = peakRss(p, Duration.ofSeconds(1)) - rssBefore;
                long threads = p.threads() - threadsBefore;
                report("2,000 bare connects: RSS +" + rss / MIB + " MiB, +" + threads + " threads");
                assertTrue(rss <= 128 * MIB, "2,000 idle connections grew the server by " + rss / MIB + " MiB");
                assertTrue(threads <= 110, "2,000 idle connections took " + threads + " threads");
                // Every one is closed: past the cap at once, the others at the handshake limit.
                long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
                for (Socket s : idle) {
                    s.setSoTimeout((int) Math.max(1, TimeUnit.NANOSECONDS.toMillis(deadline - System.nanoTime())));
                    assertTrue(closedByServer(s.getInputStream()), "an idle connection was left open");
                }
            } finally {
                closeAll(idle);
            }
            stillServes(port);
        }
    }

    private static boolean closedByServer(InputStream in) throws IOException {
        try {
            byte[] greeting = new byte[64];
            while (in.read(greeting) >= 0) {
                // the greeting of an accepted one; the close follows
            }
            return true;
        } catch (SocketException e) {
            return true; // reset
        } catch (SocketTimeoutException e) {
            return false;
        }
    }

    @Test
    void outOfMemoryEndsTheProcessWithStatus3() throws Exception {
        ServeProcess p = serve(List.of("-Xmx32m"), "1M", "127.0.0.1:0");
        try (p) {
            String[] hostPort = p.qmp().split(":");
            // An unterminated string just under the session budget (1 MiB) in each of 32 sessions:
            // each within its budget, together about as much as the 32 MiB heap.
            byte[] unfinished = ("[\"" + "a".repeat(1_000_000)).getBytes(StandardCharsets.US_ASCII);
            List<Socket> sessions = new ArrayList<>();
            try {
                for (int i = 0; i < 32 && p.isAlive(); i++) {
                    Socket s = new Socket(hostPort[0], Integer.parseInt(hostPort[1]));
                    sessions.add(s);
                    try {
                        s.getOutputStream().write(unfinished);
                    } catch (IOException e) {
                        break; // it is going down
                    }
                }
                await("the process exits").atMost(Duration.ofSeconds(5)).until(() -> !p.isAlive());
                assertEquals(3, p.exitValue(), "exit status after OutOfMemoryError");
            } finally {
                closeAll(sessions);
            }
        }
    }

    @Test
    void aJournalFileThatFailsStopsWithAnEventWhileTheInMemoryJournalGoesOn() throws Exception {
        try (ServeProcess p = serve(List.of(), "1M", "127.0.0.1:0", "--journal", "/dev/full")) {
            int port = nbdPort(p);
            try (FaultdiskClient qmp = FaultdiskClient.connect(p.qmp())) {
                addRule(qmp, Map.of("type", "error", "ops", List.of("read"), "errno", "EIO"));
                try (RawNbd c = RawNbd.open(port, "d")) {
                    for (int i = 0; i < 200; i++) { // ~200 journal entries: more than the writer's buffer
                        c.header(RawNbd.READ, i, 0, 512);
                        assertEquals(5, c.reply(i, 512));
                    }
                }
                var event = qmp.awaitEvent("FAULT_JOURNAL_FILE_FAILED", TIMEOUT);
                assertTrue(String.valueOf(event.data().get("error")).contains("space"), event.toString());
                Map<?, ?> journal = (Map<?, ?>) qmp.execute("query-fault-journal", Map.of("limit", 1000));
                long last = ((Number) journal.get("last")).longValue();
                assertTrue(last >= 200, "in-memory journal has " + last + " entries");
            }
            String log = Files.readString(dir.resolve("serve.log"));
            assertTrue(log.contains("the file is stopped"), log);
        }
    }

    @Test
    void manyQmpSessionsWithUnfinishedMessagesStayWithinTheSessionBudgets() throws Exception {
        try (ServeProcess p = serve(List.of(), "1M", "127.0.0.1:0")) {
            String[] hostPort = p.qmp().split(":");
            byte[] unfinished = ("[" + "1,".repeat(126_000)).getBytes(StandardCharsets.US_ASCII); // 253 KB
            long before = p.liveHeapKib();
            List<Socket> sessions = new ArrayList<>();
            try {
                int refused = 0;
                for (int i = 0; i < 50; i++) {
                    Socket s = new Socket(hostPort[0], Integer.parseInt(hostPort[1]));
                    sessions.add(s);
                    s.setSoTimeout(60_000);
                    String first;
                    try {
                        first = line(s.getInputStream());
                    } catch (IOException e) {
                        throw new AssertionError(
                                "session " + i + ": " + e + "\n" + Files.readString(dir.resolve("serve.log")), e);
                    }
                    if (first.contains("too many QMP sessions")) {
                        refused++;
                        continue;
                    }
                    s.getOutputStream().write(unfinished);
                }
                assertEquals(50 - 32, refused, "sessions past the default limit of 32 are refused");
                // The heap, not RSS: the JVM's RSS follows the heap's committed size (128 MiB here),
                // whatever of it is live; what the sessions hold is what survives a collection.
                await("the sessions' messages are read")
                        .atMost(TIMEOUT)
                        .until(() -> p.liveHeapKib() - before > 4 * MIB);
                long held = p.liveHeapKib() - before;
                report("50 QMP sessions with 253 KB unfinished: " + refused + " refused, live heap +" + held / MIB
                        + " MiB");
                // Each session: at most 1 MiB of unfinished input and 1 MiB of replies it does not read.
                assertTrue(
                        held <= 80 * MIB, "32 sessions hold " + held / MIB + " MiB of live heap (2 MiB each at most)");
                assertTrue(p.isAlive());
            } finally {
                closeAll(sessions);
            }
            // The server frees a closed session's place when its reader sees the end of the stream:
            // a session opened right after the 32 close may still be refused as one too many.
            await("a QMP session once the attackers' are gone")
                    .atMost(TIMEOUT)
                    .ignoreExceptions()
                    .until(() -> {
                        try (FaultdiskClient client = FaultdiskClient.connect(p.qmp())) {
                            client.execute("query-block");
                            return true;
                        }
                    });
        }
    }

    /** The measured figure, for docs/SECURITY.md's table. */
    private static void report(String line) {
        System.out.println("attack: " + line);
    }

    private static String line(InputStream in) throws IOException {
        StringBuilder b = new StringBuilder();
        for (int c; (c = in.read()) >= 0 && c != '\n'; ) {
            b.append((char) c);
        }
        return b.toString();
    }
}
