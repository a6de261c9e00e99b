package dev.faultdisk.interop;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.faultdisk.testkit.CommandResult;
import dev.faultdisk.testkit.Fio;
import dev.faultdisk.testkit.QemuIo;
import dev.faultdisk.testkit.Tools;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * fio's nbd engine (libnbd) writes with many requests in flight, then reads everything back and
 * checks each block's crc32c. A negative control proves the verification can fail.
 */
class FioTest {
    private static final Pattern ISSUED = Pattern.compile("issued rwts: total=(\\d+),(\\d+),");

    /** A write job fio verifies: the export's size, fio's options, and how many blocks it writes. */
    record Workload(String name, String size, List<String> job, long blocks) {
        @Override
        public String toString() {
            return name;
        }
    }

    /** Random 4 KiB writes at depth 16, and sequential 1 MiB writes at depth 8, on every backend. */
    static Stream<Arguments> workloads() {
        List<Workload> workloads = List.of(
                new Workload(
                        "random 4k", "32M", List.of("--rw=randwrite", "--bs=4k", "--iodepth=16", "--size=32M"), 8192),
                new Workload(
                        "sequential 1M", "64M", List.of("--rw=write", "--bs=1M", "--iodepth=8", "--size=64M"), 64));
        return workloads.stream().flatMap(w -> Backends.all().map(b -> Arguments.of(w, b)));
    }

    @ParameterizedTest(name = "{0} on {1}")
    @MethodSource("workloads")
    void writesVerify(Workload workload, String backend, @TempDir Path dir) throws Exception {
        try (TestServer server = new TestServer(TestServer.spec("d", backend, dir, workload.size()))) {
            assertVerified(
                    fio(server.uri("d"), workload.job()).assertOk("fio " + workload + " with verify"),
                    workload.blocks());
        }
    }

    @Test
    void verificationCatchesACorruptedBlock() throws Exception {
        Tools.require("qemu-io");
        try (TestServer server = new TestServer("d=memory:16M")) {
            String uri = server.uri("d");
            List<String> job = List.of("--rw=write", "--bs=1M", "--iodepth=4", "--size=16M");
            fio(uri, concat(job, "--do_verify=0")).assertOk("fio write");
            fio(uri, concat(job, "--verify_only")).assertOk("fio verify of intact data");
            QemuIo.run(uri, "write -P 0x77 5M 4k").assertOk("corrupt one block");
            CommandResult bad = fio(uri, concat(job, "--verify_only"));
            assertNotEquals(0, bad.exit(), "fio must fail on the corrupted block:\n" + bad.stdout());
            String report = bad.stdout() + bad.stderr();
            assertTrue(
                    report.contains("verify: bad magic header") && report.contains("offset 5242880"),
                    "fio names the corrupted block:\n" + report);
        }
    }

    /** fio with crc32c verification of every block it writes (NbdTlsTest runs it over TLS). */
    static CommandResult fio(String uri, List<String> job) {
        List<String> command = new ArrayList<>(List.of(
                "--verify=crc32c",
                "--verify_fatal=1",
                "--do_verify=1",
                // no verify state files left in the working directory
                "--verify_state_save=0"));
        command.addAll(job);
        return Fio.run(uri, command);
    }

    static void assertVerified(CommandResult result, long blocks) {
        String out = result.stdout();
        assertFalse(
                (out + result.stderr()).contains("verify"), "fio reported verify errors:\n" + out + result.stderr());
        assertTrue(out.contains("err= 0"), out);
        Matcher m = ISSUED.matcher(out);
        assertTrue(m.find(), out);
        // Every block written was read back for verification.
        assertEquals(blocks, Long.parseLong(m.group(2)), "writes\n" + out);
        assertEquals(blocks, Long.parseLong(m.group(1)), "verifying reads\n" + out);
    }

    /** {@code a} with {@code b} after it (NbdTlsTest adds its jobs' size with it). */
    static List<String> concat(List<String> a, String b) {
        List<String> out = new ArrayList<>(a);
        out.add(b);
        return out;
    }
}
