package dev.faultdisk.interop;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.faultdisk.testkit.Command;
import dev.faultdisk.testkit.CommandResult;
import dev.faultdisk.testkit.Nbdkit;
import dev.faultdisk.testkit.Tools;
import dev.faultdisk.wire.json.Json;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * This server's answers to odd requests and options judged by nbdkit's memory plugin and
 * qemu-nbd: libnbd's Python bindings, with libnbd's own checks off, send each of them (requests
 * of zero bytes, at and past the end, with flags that do not belong to the command, to read-only
 * exports; options with names and queries the server lacks) to all three, on a fresh connection
 * each (test resource {@code libnbd/requests.py}). Where the two judges answer alike this server
 * must answer so; where they differ it must give one of their answers. Every outcome includes
 * whether the connection still serves a read (or, negotiating, an option) afterwards. Left out, as
 * differences by design: a read over the largest payload (32 MiB) fails with EOVERFLOW, which the
 * spec names for a request without payload that is too large (nbdkit serves up to 64 MiB, qemu-nbd
 * says EINVAL); block status after zeroing with NO_HOLE says allocated data, where the judges say a
 * hole of zeroes (allowed: the flags are hints, and the memory export keeps the pages the flag
 * asks it to keep).
 */
class LibnbdRequestDifferentialTest {
    private static final long SIZE = 8L << 20;
    private static final Duration TIMEOUT = Duration.ofSeconds(120);

    @TempDir
    Path dir;

    @Test
    void oddRequestsAndOptionsGetAnAnswerOneOfNbdkitAndQemuNbdGives() throws Exception {
        Tools.require("nbdkit", "qemu-nbd");
        String python = pythonWithLibnbd();
        Path image = zeroes(dir.resolve("qemu-nbd.img"));
        Path imageRo = zeroes(dir.resolve("qemu-nbd-ro.img")); // one writer's lock keeps any other out
        Files.createDirectories(dir.resolve("kit"));
        Files.createDirectories(dir.resolve("kitr"));
        try (TestServer faultdisk = TestServer.onUnixSocket(dir.resolve("fd.sock"), "disk0=memory:8M");
                TestServer faultdiskRo = TestServer.onUnixSocket(dir.resolve("fdr.sock"), "disk0=memory:8M,readonly");
                Nbdkit nbdkit = Nbdkit.memory(dir.resolve("kit"));
                Nbdkit nbdkitRo = Nbdkit.memory(dir.resolve("kitr"), "-r");
                QemuNbd qemuNbd = QemuNbd.start(image, dir.resolve("qn.sock"), false);
                QemuNbd qemuNbdRo = QemuNbd.start(imageRo, dir.resolve("qnr.sock"), true)) {
            CommandResult run = Command.run(
                    TIMEOUT,
                    python,
                    script(),
                    Long.toString(SIZE),
                    "faultdisk=" + dir.resolve("fd.sock"),
                    "nbdkit=" + nbdkit.socket(),
                    "qemu-nbd=" + dir.resolve("qn.sock"),
                    "faultdisk=" + dir.resolve("fdr.sock") + ",readonly",
                    "nbdkit=" + nbdkitRo.socket() + ",readonly",
                    "qemu-nbd=" + dir.resolve("qnr.sock") + ",readonly");
            run.assertOk("requests.py");
            Map<String, Map<String, String>> cases = outcomes(run.stdout());
            assertTrue(cases.size() >= 100, "cases run: " + cases.size() + "\n" + run.stdout());
            List<String> wrong = new ArrayList<>();
            for (Map.Entry<String, Map<String, String>> c : cases.entrySet()) {
                Map<String, String> by = c.getValue();
                String mine = by.get("faultdisk");
                if (!mine.equals(by.get("nbdkit")) && !mine.equals(by.get("qemu-nbd"))) {
                    wrong.add(c.getKey() + ": faultdisk " + mine + ", nbdkit " + by.get("nbdkit") + ", qemu-nbd "
                            + by.get("qemu-nbd"));
                }
            }
            assertEquals(List.of(), wrong, "answers neither judge gives");
            // The sweep must have reached both kinds of outcome and every connection must have lived on.
            assertTrue(
                    cases.values().stream().anyMatch(by -> by.get("faultdisk").startsWith("err:EINVAL then ok")));
            assertTrue(
                    cases.values().stream().anyMatch(by -> by.get("faultdisk").startsWith("err:EPERM then ok")));
            assertTrue(
                    cases.values().stream().anyMatch(by -> by.get("faultdisk").startsWith("ok:")));
            assertTrue(
                    cases.values().stream()
                            .map(by -> by.get("faultdisk"))
                            .allMatch(o -> !o.contains(" then ") || o.endsWith(" then ok")),
                    run.stdout());
        }
    }

    private static Path zeroes(Path image) throws IOException {
        try (RandomAccessFile file = new RandomAccessFile(image.toFile(), "rw")) {
            file.setLength(SIZE);
        }
        return image;
    }

    /** case -> server -> outcome, in the script's order; every case answered by all three. */
    @SuppressWarnings("unchecked")
    private static Map<String, Map<String, String>> outcomes(String jsonLines) {
        Map<String, Map<String, String>> cases = new LinkedHashMap<>();
        for (String line : jsonLines.split("\n")) {
            if (line.isBlank()) {
                continue;
            }
            Map<String, Object> row = (Map<String, Object>) Json.parse(line);
            cases.computeIfAbsent((String) row.get("case"), k -> new LinkedHashMap<>())
                    .put((String) row.get("server"), (String) row.get("outcome"));
        }
        cases.forEach((name, by) ->
                assertEquals(Set.of("faultdisk", "nbdkit", "qemu-nbd"), by.keySet(), "servers that answered " + name));
        return cases;
    }

    private static String script() throws URISyntaxException {
        return Path.of(Objects.requireNonNull(LibnbdRequestDifferentialTest.class.getResource("/libnbd/requests.py"))
                        .toURI())
                .toString();
    }

    /** A python3 that has libnbd's bindings (Debian's python3-libnbd is for the system's own). */
    private static String pythonWithLibnbd() {
        List<String> candidates = new ArrayList<>();
        Optional.ofNullable(Tools.which("python3")).ifPresent(p -> candidates.add(p.toString()));
        candidates.add("/usr/bin/python3");
        for (String python : candidates) {
            if (Files.isExecutable(Path.of(python))
                    && Command.run(Duration.ofSeconds(30), python, "-c", "import nbd")
                                    .exit()
                            == 0) {
                return python;
            }
        }
        Tools.requireThat(false, "libnbd's Python bindings (python3-libnbd) for " + candidates);
        throw new AssertionError("unreachable");
    }

    /** qemu-nbd serving {@code image} as disk0 on a Unix socket, for any number of clients in turn. */
    private record QemuNbd(Process process) implements AutoCloseable {
        static QemuNbd start(Path image, Path socket, boolean readOnly) throws IOException {
            List<String> argv = new ArrayList<>(
                    List.of("qemu-nbd", "--persistent", "--shared=4", "--format=raw", "--export-name=disk0"));
            if (readOnly) {
                argv.add("--read-only");
            }
            argv.addAll(List.of("--socket=" + socket, image.toString()));
            Path log = socket.resolveSibling(socket.getFileName() + ".log");
            Process process = new ProcessBuilder(argv)
                    .redirectErrorStream(true)
                    .redirectOutput(log.toFile())
                    .start();
            QemuNbd qemuNbd = new QemuNbd(process);
            try {
                await("qemu-nbd's socket").atMost(TIMEOUT).until(() -> Files.exists(socket) || !process.isAlive());
                if (!process.isAlive()) {
                    throw new IllegalStateException("qemu-nbd " + argv + " ended: " + Files.readString(log));
                }
            } catch (RuntimeException e) {
                qemuNbd.close();
                throw e;
            }
            return qemuNbd;
        }

        @Override
        public void close() {
            process.destroy();
            try {
                process.waitFor();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }
}
