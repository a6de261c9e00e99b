package dev.faultdisk.interop;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.faultdisk.nbd.NbdServer;
import dev.faultdisk.nbd.PskTls;
import dev.faultdisk.server.FaultdiskServer;
import dev.faultdisk.testkit.Command;
import dev.faultdisk.testkit.CommandResult;
import dev.faultdisk.testkit.Nbdkit;
import dev.faultdisk.testkit.Tools;
import dev.faultdisk.wire.json.Json;
import dev.faultdisk.wire.net.TlsMode;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.net.URISyntaxException;
import java.net.UnixDomainSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.SplittableRandom;
import java.util.function.Function;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * This server's answers to odd requests and options judged by nbdkit's memory plugin and
 * qemu-nbd: libnbd's Python bindings, with libnbd's own checks off, send each of them (requests
 * of zero bytes, at and past the end, with flags that do not belong to the command, to read-only
 * exports; options with names and queries the server lacks) to all three, on a fresh connection
 * each (test resource {@code libnbd/requests.py}). Where the two judges answer alike this server
 * must answer so; where they differ it must give one of their answers. So must a server that runs
 * each request off the connection's reader (as exports with fault layers do); and over TLS with a
 * pre-shared key this server answers every case as it does without. Every outcome includes
 * whether the connection still serves a read (or, negotiating, an option) afterwards. Left out, as
 * differences by design: a read over the largest payload (32 MiB) fails with EOVERFLOW, which the
 * spec names for a request without payload that is too large (nbdkit serves up to 64 MiB, qemu-nbd
 * says EINVAL); block status after zeroing with NO_HOLE says allocated zeroes (ZERO), where the
 * judges say a hole of zeroes (the memory export keeps the pages the flag asks it to keep; nbdkit's
 * memory plugin frees them, and ext4 reports the unwritten extents of a file zeroed in place as a
 * hole).
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
        Files.createDirectories(dir.resolve("kit"));
        Files.createDirectories(dir.resolve("kitr"));
        try (TestServer faultdisk = TestServer.onUnixSocket(dir.resolve("fd.sock"), "disk0=memory:8M");
                TestServer offReader = TestServer.onUnixSocket(
                        dir.resolve("fdo.sock"), TestServer.spec("disk0", "memory-offreader", dir, "8M"));
                TestServer faultdiskRo = TestServer.onUnixSocket(dir.resolve("fdr.sock"), "disk0=memory:8M,readonly");
                Nbdkit nbdkit = Nbdkit.memory(dir.resolve("kit"));
                Nbdkit nbdkitRo = Nbdkit.memory(dir.resolve("kitr"), "-r");
                JudgeServer qemuNbd =
                        JudgeServer.qemuNbd(zeroes(dir.resolve("qn.img")), dir.resolve("qn.sock"), "--shared=4");
                // A writer's image lock keeps any other qemu-nbd off its image: one image each.
                JudgeServer qemuNbdRo = JudgeServer.qemuNbd(
                        zeroes(dir.resolve("qnr.img")), dir.resolve("qnr.sock"), "--shared=4", "--read-only")) {
            assertJudgedAlike(
                    List.of(python, script().toString()),
                    Long.toString(SIZE),
                    "faultdisk=" + dir.resolve("fd.sock"),
                    "faultdisk-offreader=" + dir.resolve("fdo.sock"),
                    "nbdkit=" + nbdkit.socket(),
                    "qemu-nbd=" + dir.resolve("qn.sock"),
                    "faultdisk=" + dir.resolve("fdr.sock") + ",readonly",
                    "nbdkit=" + nbdkitRo.socket() + ",readonly",
                    "qemu-nbd=" + dir.resolve("qnr.sock") + ",readonly");
        }
    }

    /**
     * Over TLS with a pre-shared key (replies go out as records, a path of their own) this server
     * answers every case as it does without. nbdkit is no judge here: over TLS nbdkit 1.32 drops
     * the connection after a write past the end it refused (ENOTCONN on the next request), where it
     * goes on without TLS.
     */
    @Test
    void tlsChangesNoAnswer() throws Exception {
        assertTlsChangesNoAnswer(List.of(pythonWithLibnbd(), script().toString()), dir, Path::toString);
    }

    /**
     * The sweep over TLS with a pre-shared key against this server gives the answers it gives
     * without, run by {@code requests} (a python3 and the script) with the servers' sockets and
     * the key file in {@code dir}, which the client sees at {@code seen}'s paths.
     */
    static void assertTlsChangesNoAnswer(List<String> requests, Path dir, Function<Path, String> seen)
            throws Exception {
        byte[] key = new byte[32];
        new SplittableRandom(0x11b_2bdL).nextBytes(key);
        Path keys = dir.resolve("keys.psk");
        Files.writeString(keys, "grace:" + HexFormat.of().formatHex(key) + "\n");
        try (TestServer plain = TestServer.onUnixSocket(dir.resolve("fd.sock"), "disk0=memory:8M");
                FaultdiskServer tls = FaultdiskServer.builder()
                        .export("disk0=memory:8M")
                        .nbd(UnixDomainSocketAddress.of(dir.resolve("tls.sock")))
                        .nbdOptions(NbdServer.Options.defaults().withPsk(TlsMode.REQUIRE, PskTls.load(keys)))
                        .start()) {
            Map<String, Map<String, String>> without =
                    run(requests, Long.toString(SIZE), "faultdisk=" + seen.apply(dir.resolve("fd.sock")));
            Map<String, Map<String, String>> with = run(
                    requests,
                    "--psk",
                    seen.apply(keys) + ":grace",
                    Long.toString(SIZE),
                    "faultdisk=" + seen.apply(dir.resolve("tls.sock")));
            assertTrue(without.size() >= 90, "cases run: " + without.size());
            // Without fixed newstyle there is no TLS; with TLS on, STARTTLS is not asked again.
            without.keySet()
                    .removeIf(c -> c.startsWith("oldstyle")
                            || c.startsWith("only NO_ZEROES")
                            || c.contains("STARTTLS where TLS is off"));
            assertEquals(without, with, "without TLS, then with");
            assertTrue(with.values().stream().anyMatch(by -> by.get("faultdisk").startsWith("err:ENOSPC then ok")));
        }
    }

    /**
     * Runs requests.py ({@code requests}: a python3 and the script) with {@code args}; every server
     * labelled faultdisk... answers each case as nbdkit or qemu-nbd does. Returns the outcomes.
     */
    static Map<String, Map<String, String>> assertJudgedAlike(List<String> requests, String... args) throws Exception {
        Map<String, Map<String, String>> cases = run(requests, args);
        cases.forEach((name, by) -> assertTrue(
                by.keySet().containsAll(List.of("faultdisk", "nbdkit", "qemu-nbd")),
                "servers that answered " + name + ": " + by.keySet()));
        assertTrue(cases.size() >= 90, "cases run: " + cases.size() + "\n" + cases);
        List<String> wrong = new ArrayList<>();
        List<String> mine = new ArrayList<>();
        for (Map.Entry<String, Map<String, String>> c : cases.entrySet()) {
            Map<String, String> by = c.getValue();
            by.forEach((server, outcome) -> {
                if (server.startsWith("faultdisk")) {
                    mine.add(outcome);
                    if (!outcome.equals(by.get("nbdkit")) && !outcome.equals(by.get("qemu-nbd"))) {
                        wrong.add(c.getKey() + ": " + server + " " + outcome + ", nbdkit " + by.get("nbdkit")
                                + ", qemu-nbd " + by.get("qemu-nbd"));
                    }
                }
            });
        }
        assertEquals(List.of(), wrong, "answers neither judge gives");
        // The sweep must have reached both kinds of outcome, and every connection lived on.
        assertTrue(mine.stream().anyMatch(o -> o.startsWith("err:EINVAL then ok")), cases.toString());
        assertTrue(mine.stream().anyMatch(o -> o.startsWith("err:ENOSPC then ok")), cases.toString());
        assertTrue(mine.stream().anyMatch(o -> o.startsWith("ok:")), cases.toString());
        assertTrue(mine.stream().allMatch(o -> !o.contains(" then ") || o.endsWith(" then ok")), cases.toString());
        return cases;
    }

    private static Path zeroes(Path image) throws IOException {
        try (RandomAccessFile file = new RandomAccessFile(image.toFile(), "rw")) {
            file.setLength(SIZE);
        }
        return image;
    }

    /**
     * requests.py's outcomes with {@code args} ({@code requests}: a python3 and the script): case ->
     * server -> outcome, in the script's order.
     */
    @SuppressWarnings("unchecked")
    static Map<String, Map<String, String>> run(List<String> requests, String... args) {
        List<String> argv = new ArrayList<>(requests);
        argv.addAll(List.of(args));
        CommandResult run = Command.run(TIMEOUT, argv);
        run.assertOk("requests.py");
        String jsonLines = run.stdout();
        Map<String, Map<String, String>> cases = new LinkedHashMap<>();
        for (String line : jsonLines.split("\n")) {
            if (line.isBlank()) {
                continue;
            }
            Map<String, Object> row = (Map<String, Object>) Json.parse(line);
            cases.computeIfAbsent((String) row.get("case"), k -> new LinkedHashMap<>())
                    .put((String) row.get("server"), (String) row.get("outcome"));
        }
        return cases;
    }

    /** The test resource requests.py. */
    static Path script() throws URISyntaxException {
        return Path.of(Objects.requireNonNull(LibnbdRequestDifferentialTest.class.getResource("/libnbd/requests.py"))
                .toURI());
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
}
