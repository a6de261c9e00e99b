package dev.faultdisk.interop;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.faultdisk.client.ExportRemoved;
import dev.faultdisk.client.FaultdiskClient;
import dev.faultdisk.junit.ExportUri;
import dev.faultdisk.junit.Faultdisk;
import dev.faultdisk.server.FaultdiskServer;
import dev.faultdisk.testkit.Command;
import dev.faultdisk.testkit.CommandResult;
import dev.faultdisk.testkit.FaultdiskCli;
import dev.faultdisk.testkit.QemuIo;
import dev.faultdisk.testkit.Tools;
import java.io.BufferedWriter;
import java.io.OutputStreamWriter;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * Exports added and removed while the server runs, seen by real clients: nbdinfo lists an added
 * export and qemu-io writes to it; a removed export's connected qemu-io loses it while the server
 * and the other exports go on.
 */
class ExportAtRunTimeTest {
    private static final Duration WAIT = Duration.ofSeconds(30);

    private static String list(String uri) {
        return Command.run(WAIT, "nbdinfo", "--list", uri)
                .assertOk("nbdinfo --list")
                .stdout();
    }

    @Test
    @Faultdisk(exports = "disk0=memory:16M")
    void queryBlockGivesEachExportsUriAndNbdinfoOpensIt(FaultdiskClient fd, @ExportUri("disk0") String disk0) {
        Tools.require("nbdinfo");
        assertEquals(disk0, fd.exportUri("disk0").orElseThrow(), "the URI the extension connects to");
        fd.exportAdd("added ?#%é", "memory:3M"); // an export's name is any UTF-8: the URI encodes it
        String added = fd.exportUri("added ?#%é").orElseThrow();
        assertEquals(disk0.replace("/disk0", "/added%20%3F%23%25%C3%A9"), added);
        String size = Command.run(WAIT, "nbdinfo", "--size", added)
                .assertOk("nbdinfo --size " + added)
                .stdout()
                .strip();
        assertEquals(String.valueOf(3L << 20), size, "nbdinfo reached the added export at " + added);
        assertTrue(fd.exportUri("none").isEmpty(), "no URI for an export that does not exist");
    }

    @Test
    @Faultdisk(exports = "disk0=memory:16M")
    void anAddedExportIsListedAndServedAndARemovedOneIsRefused(FaultdiskClient fd, @ExportUri("disk0") String disk0) {
        Tools.require("nbdinfo", "qemu-io");
        String scratch = disk0.replace("/disk0", "/scratch");
        assertFalse(list(disk0).contains("export=\"scratch\""));

        fd.exportAdd("scratch", "memory:8M,cache=writeback");
        String listed = list(disk0);
        assertTrue(listed.contains("export=\"scratch\""), listed);
        assertTrue(listed.contains("export=\"disk0\""), listed);
        QemuIo.run(scratch, "write -P 0x3c 64k 4k").assertOk("write to the added export");
        assertVerified(QemuIo.run(scratch, "read -P 0x3c 64k 4k").assertOk("read it back"));
        assertEquals(1, fd.queryBlockstats("scratch").op("write").operations());

        fd.exportRemove("scratch");
        assertFalse(list(disk0).contains("export=\"scratch\""));
        CommandResult refused = QemuIo.run(scratch, "read 0 4k");
        assertTrue(refused.exit() != 0, refused.toString());
        QemuIo.run(disk0, "write -P 1 0 4k").assertOk("the other export goes on");
    }

    @Test
    @Faultdisk(exports = "disk0=memory:16M")
    void removingAnExportWhileQemuIoIsConnectedEndsOnlyThatConnection(
            FaultdiskClient fd, @ExportUri("disk0") String disk0) throws Exception {
        Tools.require("qemu-io");
        fd.exportAdd("gone", "memory:8M");
        String gone = disk0.replace("/disk0", "/gone");
        Process attached = new ProcessBuilder("qemu-io", "-f", "raw", gone)
                .redirectErrorStream(true)
                .start();
        try {
            await("qemu-io attached")
                    .atMost(WAIT)
                    .until(() ->
                            fd.queryBlock().stream().anyMatch(b -> b.device().equals("gone") && b.connections() == 1));
            // A second client on the export that stays, connected throughout.
            Process other = new ProcessBuilder("qemu-io", "-f", "raw", disk0)
                    .redirectErrorStream(true)
                    .start();
            try {
                await("the other qemu-io attached")
                        .atMost(WAIT)
                        .until(() -> fd.queryBlock().getFirst().connections() == 1);

                ExportRemoved removed = fd.exportRemove("gone");
                assertEquals(1, removed.connections());

                String goneOutput = runThenQuit(attached, "write -P 9 0 4k");
                assertTrue(
                        goneOutput.contains("failed") || goneOutput.contains("Connection"),
                        "the removed export's client got an error: " + goneOutput);
                String otherOutput = runThenQuit(other, "write -P 9 0 4k");
                assertTrue(otherOutput.contains("wrote 4096/4096 bytes at offset 0"), otherOutput);
                assertEquals(0, other.exitValue(), otherOutput);
            } finally {
                other.destroyForcibly();
            }
        } finally {
            attached.destroyForcibly();
        }
        QemuIo.run(disk0, "read -P 9 0 4k").assertOk("the server goes on");
    }

    @Test
    @Faultdisk(exports = "disk0=memory:16M")
    void theCommandLineAddsAndRemovesExports(FaultdiskClient fd, FaultdiskServer server) {
        String qmp = "127.0.0.1:" + ((InetSocketAddress) server.qmpAddresses().getFirst()).getPort();
        CommandResult added = FaultdiskCli.run("export", "add", "cli", "memory:2M,readonly", "--qmp", qmp);
        assertEquals(0, added.exit(), added.toString());
        assertTrue(added.stdout().startsWith("cli: added, 2 MiB"), added.stdout());
        assertTrue(fd.queryBlock().stream().anyMatch(b -> b.device().equals("cli") && b.readOnly()));

        CommandResult taken = FaultdiskCli.run("export", "add", "cli", "memory:2M", "--qmp", qmp);
        assertEquals(1, taken.exit(), taken.toString());
        assertTrue(taken.stderr().contains("export 'cli' exists already"), taken.stderr());

        CommandResult removed = FaultdiskCli.run("export", "remove", "cli", "--qmp", qmp, "--json");
        assertEquals(0, removed.exit(), removed.toString());
        assertTrue(removed.stdout().contains("\"connections\": 0"), removed.stdout());
        assertEquals(1, fd.queryBlock().size());
    }

    @Test
    @Faultdisk(exports = "disk0=memory:16M")
    void qemuIoReadsACloneAsTheSnapshotHeldItWhileTheOriginGoesOn(
            FaultdiskClient fd, @ExportUri("disk0") String disk0) {
        Tools.require("qemu-io");
        QemuIo.run(disk0, "write -P 0x11 0 64k").assertOk("fill the origin");
        fd.snapshotCreate("disk0", "before");
        QemuIo.run(disk0, "write -P 0x22 0 64k").assertOk("the origin goes on after the snapshot");

        fd.exportAdd("try", "disk0", "before");
        String clone = disk0.replace("/disk0", "/try");
        assertVerified(QemuIo.run(clone, "read -P 0x11 0 64k").assertOk("the clone holds the snapshot"));
        QemuIo.run(clone, "write -P 0x33 4k 4k").assertOk("write to the clone");
        assertVerified(QemuIo.run(clone, "read -P 0x33 4k 4k").assertOk("the clone keeps its write"));
        assertVerified(QemuIo.run(disk0, "read -P 0x22 0 64k").assertOk("the origin never sees it"));
        fd.snapshotRevert("disk0", "before");
        assertVerified(QemuIo.run(disk0, "read -P 0x11 4k 4k").assertOk("nor does the origin's snapshot"));

        fd.exportRemove("try");
        fd.exportRemove("disk0");
    }

    private static void assertVerified(CommandResult read) {
        assertFalse(read.stdout().contains("Pattern verification failed"), read.stdout());
    }

    /** Types {@code command} and {@code quit} into an interactive qemu-io and returns all it printed. */
    private static String runThenQuit(Process qemuIo, String command) throws Exception {
        try (BufferedWriter in =
                new BufferedWriter(new OutputStreamWriter(qemuIo.getOutputStream(), StandardCharsets.UTF_8))) {
            in.write(command + "\nquit\n");
        }
        String output = new String(qemuIo.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(qemuIo.waitFor(WAIT.toSeconds(), TimeUnit.SECONDS), "qemu-io exits");
        return output;
    }
}
