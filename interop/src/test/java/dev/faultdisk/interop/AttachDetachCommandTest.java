package dev.faultdisk.interop;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import dev.faultdisk.cache.PowerFailReport;
import dev.faultdisk.cache.WriteCacheDevice;
import dev.faultdisk.explore.LoopDevice;
import dev.faultdisk.testkit.Tools;
import dev.faultdisk.wire.PowerFailMode;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code faultdisk attach} and {@code faultdisk detach} as real processes (the runnable jar)
 * against an in-process server: attach with mkfs and mount, detach, attach again and find the
 * data, detach a disk whose power is off, and the errors for a missing tool, a missing
 * attachment, a name already in use and a user who is not root.
 */
class AttachDetachCommandTest {
    private static final Path JAR =
            Path.of("..", "cli", "target", "faultdisk.jar").toAbsolutePath().normalize();
    private static final Pattern LOOP = Pattern.compile("loop device: (/dev/loop\\d+)");

    @TempDir
    Path dir;

    /** The outcome of one command. */
    record Run(int exit, String stdout, String stderr) {
        Run ok(String what) {
            assertEquals(
                    0, exit, () -> what + " failed (exit " + exit + ")\nstdout:\n" + stdout + "\nstderr:\n" + stderr);
            return this;
        }
    }

    @Test
    void attachMkfsMountDetachReattachAndDetachAfterPowerLoss() throws Exception {
        FuseLoopDisk.requireAll();
        requireJar();
        Path state = dir.resolve("state");
        Path mnt = dir.resolve("mnt");
        byte[] content = new byte[300_000];
        new SplittableRandom(7).nextBytes(content);
        try (TestServer server = new TestServer("disk=memory:128M,cache=writeback")) {
            WriteCacheDevice cache = server.exports().find("disk").orElseThrow().writeCache();
            String uri = server.uri("disk");
            List<String> attach = List.of(
                    "attach",
                    "--name",
                    "fdtest",
                    "--mkfs",
                    "--mount",
                    mnt.toString(),
                    "--state-dir",
                    state.toString(),
                    uri);
            Run first = faultdisk(Map.of(), attach).ok("faultdisk attach --mkfs --mount");
            String loop = loopDevice(first);
            try {
                assertTrue(first.stdout().contains("mount point: " + mnt), first.stdout());
                assertTrue(isMounted(mnt), "mounted at " + mnt);
                assertEquals(
                        state.resolve("fdtest.fuse").resolve("nbd").toString(),
                        LoopDevice.backingFile(loop).orElse(null));
                assertTrue(Files.exists(state.resolve("fdtest.attach")));
                writeAndFsync(mnt.resolve("data"), content);

                Run again = faultdisk(Map.of(), attach);
                assertEquals(1, again.exit(), again.toString());
                assertTrue(again.stderr().contains("'fdtest' is already attached"), again.stderr());
                assertTrue(
                        Files.exists(state.resolve("fdtest.attach")), "a refused attach keeps the first one's state");
                assertTrue(isMounted(mnt));
            } finally {
                detach(state, "fdtest").ok("faultdisk detach");
            }
            assertTakenDown(mnt, loop, state);

            Run second = faultdisk(
                            Map.of(),
                            List.of(
                                    "attach",
                                    "--name",
                                    "fdtest",
                                    "--mount",
                                    mnt.toString(),
                                    "--state-dir",
                                    state.toString(),
                                    uri))
                    .ok("faultdisk attach --mount (no mkfs)");
            String loop2 = loopDevice(second);
            PowerFailReport report;
            try {
                assertArrayEquals(content, Files.readAllBytes(mnt.resolve("data")), "the file came back through NBD");
                Files.writeString(mnt.resolve("unsynced"), "never flushed");
                report = cache.power().powerOff(PowerFailMode.DROP_ALL, 1);
            } finally {
                Run down = detach(state, null); // the only attachment: no name needed
                cache.power().powerOn();
                System.out.println("faultdisk detach with the power off:\n" + down.stdout() + down.stderr());
                down.ok("faultdisk detach after a power failure");
            }
            assertTakenDown(mnt, loop2, state);
            System.out.println("detach after power loss worked; " + report.summary());
        }
    }

    @Test
    void clearErrorsForMissingToolsMissingAttachmentsAndNonRootUsers() throws Exception {
        requireJar();
        Path state = dir.resolve("state");
        Run unknown = detach(state, "nosuch");
        assertEquals(2, unknown.exit(), unknown.toString());
        assertTrue(unknown.stderr().contains("nothing attached as 'nosuch'"), unknown.stderr());

        Run none = detach(state, null);
        assertEquals(2, none.exit(), none.toString());
        assertTrue(none.stderr().contains("nothing is attached"), none.stderr());

        Run badUri =
                faultdisk(Map.of(), List.of("attach", "--state-dir", state.toString(), "http://example.invalid/x"));
        assertEquals(2, badUri.exit(), badUri.toString());
        assertTrue(badUri.stderr().contains("not an NBD URI"), badUri.stderr());

        if ("root".equals(System.getProperty("user.name"))) {
            Run noTools = faultdisk(
                    Map.of("PATH", "/nonexistent"),
                    List.of("attach", "--state-dir", state.toString(), "nbd://127.0.0.1:1/disk"));
            assertEquals(1, noTools.exit(), noTools.toString());
            assertTrue(
                    noTools.stderr()
                            .contains(
                                    "nbdfuse is not installed or not on PATH (Debian/Ubuntu: apt-get install libnbd-bin)"),
                    noTools.stderr());
            assertFalse(Files.exists(state.resolve("disk.attach")));
            Tools.require("setpriv");
            List<String> asNobody =
                    new ArrayList<>(List.of("setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"));
            asNobody.addAll(javaCommand());
            asNobody.addAll(
                    List.of("attach", "--state-dir", dir.resolve("nobody").toString(), "nbd://127.0.0.1:1/disk"));
            Run notRoot = exec(Map.of("HOME", "/tmp"), asNobody);
            assertEquals(1, notRoot.exit(), notRoot.toString());
            assertTrue(notRoot.stderr().contains("faultdisk attach needs root"), notRoot.stderr());
        } else {
            Run notRoot =
                    faultdisk(Map.of(), List.of("attach", "--state-dir", state.toString(), "nbd://127.0.0.1:1/disk"));
            assertEquals(1, notRoot.exit(), notRoot.toString());
            assertTrue(notRoot.stderr().contains("faultdisk attach needs root"), notRoot.stderr());
        }
    }

    private static void assertTakenDown(Path mnt, String loop, Path state) {
        assertFalse(isMounted(mnt), mnt + " still mounted");
        assertFalse(isMounted(state.resolve("fdtest.fuse")), "FUSE still mounted");
        String backing = LoopDevice.backingFile(loop).orElse(null);
        assertTrue(backing == null || !backing.startsWith(state.toString()), loop + " still bound to " + backing);
        assertFalse(Files.exists(state.resolve("fdtest.attach")), "state file left behind");
    }

    private static void requireJar() {
        if (!Files.isRegularFile(JAR)) {
            fail(JAR + " is missing: build it first (./mvnw -pl cli -am package -DskipTests)");
        }
    }

    private static String loopDevice(Run r) {
        Matcher m = LOOP.matcher(r.stdout());
        assertTrue(m.find(), "attach printed no loop device:\n" + r.stdout());
        return m.group(1);
    }

    private Run detach(Path state, String name) throws IOException, InterruptedException {
        List<String> args = new ArrayList<>(List.of("detach", "--state-dir", state.toString()));
        if (name != null) {
            args.add(name);
        }
        return faultdisk(Map.of(), args);
    }

    private static List<String> javaCommand() {
        return List.of(
                Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "--enable-native-access=ALL-UNNAMED",
                "-jar",
                JAR.toString());
    }

    private Run faultdisk(Map<String, String> env, List<String> args) throws IOException, InterruptedException {
        List<String> cmd = new ArrayList<>(javaCommand());
        cmd.addAll(args);
        return exec(env, cmd);
    }

    private Run exec(Map<String, String> env, List<String> cmd) throws IOException, InterruptedException {
        Path out = Files.createTempFile(dir, "out", ".txt");
        Path err = Files.createTempFile(dir, "err", ".txt");
        ProcessBuilder pb = new ProcessBuilder(cmd)
                .redirectOutput(out.toFile())
                .redirectError(err.toFile())
                .redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null")));
        pb.environment().putAll(env);
        Process p = pb.start();
        if (!p.waitFor(120, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            fail("timed out: " + cmd);
        }
        return new Run(
                p.exitValue(),
                Files.readString(out, StandardCharsets.UTF_8),
                Files.readString(err, StandardCharsets.UTF_8));
    }

    private static boolean isMounted(Path path) {
        try {
            return Files.readAllLines(Path.of("/proc/self/mounts")).stream()
                    .map(l -> l.split(" "))
                    .anyMatch(f -> f.length > 1 && f[1].equals(path.toString()));
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    private static void writeAndFsync(Path file, byte[] content) throws IOException {
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
            ByteBuffer b = ByteBuffer.wrap(content);
            while (b.hasRemaining()) {
                ch.write(b);
            }
            ch.force(true);
        }
        assertTrue(Arrays.equals(content, Files.readAllBytes(file)));
    }
}
