package dev.faultdisk.interop;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.faultdisk.client.FaultRule;
import dev.faultdisk.client.FaultdiskClient;
import dev.faultdisk.client.HeldRequest;
import dev.faultdisk.client.PowerFailReport;
import dev.faultdisk.client.WriteCacheInfo;
import dev.faultdisk.junit.ExportUri;
import dev.faultdisk.junit.Faultdisk;
import dev.faultdisk.testkit.Command;
import dev.faultdisk.testkit.CommandResult;
import dev.faultdisk.testkit.Tools;
import dev.faultdisk.wire.PowerFailMode;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * The Linux kernel's own NBD client (nbd.ko, with nbd-client 3.24 doing the handshake) against the
 * server, in a guest under QEMU ({@link LinuxGuest}), and QEMU's client serving exports to that
 * guest as virtio disks: through each (the kernel's over one connection and over four) ext4 made,
 * written and unmounted; O_DIRECT writes, one fsynced (the block layer's flush becomes NBD FLUSH)
 * and one not; a discard; a read an error rule fails, seen by the guest as EIO; then a power cut
 * while the guest is still attached, which keeps the flushed write and loses the other. And the write-barrier bug class
 * through both: the kernel's client, whose queue takes FUA from the server's flags, so ext4's
 * journal commits arrive as a flush and a FUA write (through nbdfuse and a loop device,
 * PowerFailExt4Test, FUA becomes one more flush), and QEMU's virtio disk, which offers the guest a
 * flush only: an fsynced file survives a power cut with barriers and is lost with {@code
 * barrier=0}.
 */
@Faultdisk(
        exports = {
            "raw=memory:64M,cache=writeback",
            "fs=memory:64M",
            "ext4=memory:64M,cache=writeback",
            "silent=memory:64M"
        })
class GuestNbdClientsTest {
    private static final long SEED = 0x6b6e6264L;
    private static final int MIB = 1 << 20;
    private static final long FLUSHED_AT = MIB;
    private static final long UNFLUSHED_AT = 3L * MIB;
    private static final long FAULT_AT = 8L * MIB;
    private static final long DISCARD_AT = 16L * MIB;
    private static final Duration GUEST = Duration.ofMinutes(3);
    private static final Duration COPY = Duration.ofSeconds(60);
    /** The kernel client's request timeout in the silent-disk case (nbd-client -t). */
    private static final int TIMEOUT_SECONDS = 5;

    /**
     * How a guest reaches the two exports: the kernel's client attaches them itself, or QEMU's
     * client serves them to the guest as virtio disks (the GUIDE's virtual machine, with discards
     * passed on).
     */
    enum Client {
        KERNEL("/dev/nbd1", "/dev/nbd0", 1),
        /**
         * The kernel's client over four connections ({@code nbd-client -C 4}, which the server's
         * CAN_MULTI_CONN allows): writes spread over them, and a flush on one must make every
         * write completed on any of them durable.
         */
        KERNEL_FOUR_CONNECTIONS("/dev/nbd1", "/dev/nbd0", 4),
        QEMU("/dev/vda", "/dev/vdb", 2);

        final String fsDevice;
        final String rawDevice;
        /** NBD connections open while the raw disk is written: QEMU keeps one per drive. */
        final int connections;

        Client(String fsDevice, String rawDevice, int connections) {
            this.fsDevice = fsDevice;
            this.rawDevice = rawDevice;
            this.connections = connections;
        }

        boolean kernel() {
            return this != QEMU;
        }

        String attach(int port, String export, String device) {
            return kernel()
                    ? "nbd-client 10.0.2.2 %d %s -N %s -C %d".formatted(port, device, export, connections)
                    : ":";
        }

        String detach(String device) {
            return kernel() ? "nbd-client -d " + device + " || true" : ":";
        }

        List<String> qemuArgs(String... uris) {
            List<String> args = new ArrayList<>();
            if (!kernel()) {
                for (String uri : uris) {
                    args.addAll(List.of("-drive", "file=" + uri + ",format=raw,if=virtio,discard=unmap"));
                }
            }
            return args;
        }
    }

    @ParameterizedTest
    @EnumSource(Client.class)
    void guestFlushesDiscardsSeesErrorsAndLosesOnlyUnflushedWrites(
            Client client,
            FaultdiskClient fd,
            @ExportUri("raw") String raw,
            @ExportUri("fs") String fs,
            @TempDir Path dir)
            throws Exception {
        LinuxGuest.require();
        Tools.require("nbdcopy", "debugfs", "e2fsck", "ss");
        SplittableRandom random = new SplittableRandom(SEED);
        byte[] flushed = bytes(random, MIB);
        byte[] unflushed = bytes(random, MIB);
        byte[] file = bytes(random, 768 * 1024);
        Files.write(dir.resolve("a.bin"), flushed);
        Files.write(dir.resolve("b.bin"), unflushed);
        Files.write(dir.resolve("f.bin"), file);
        fd.faultAdd("raw", FaultRule.error("EIO").ops("read").range(FAULT_AT, 4096));
        int port = URI.create(raw).getPort();
        String f = client.fsDevice;
        String r = client.rawDevice;
        String job = """
                %1$s
                mkfs.ext4 -q -F %2$s
                mount -t ext4 %2$s /mnt
                cp /files/f.bin /mnt/f.bin
                umount /mnt
                %3$s
                %4$s
                dd if=/files/a.bin of=%5$s bs=64k seek=%6$d oflag=direct conv=fsync
                dd if=/files/b.bin of=%5$s bs=64k seek=%7$d oflag=direct
                blkdiscard -o %8$d -l 1048576 %5$s
                dd if=%5$s of=/dev/null bs=4k skip=%9$d count=1 iflag=direct
                if dd if=%5$s of=/dev/null bs=4k skip=%10$d count=1 iflag=direct; then
                  echo "faultdisk-guest: faulted read: succeeded"
                else
                  echo "faultdisk-guest: faulted read: failed"
                fi
                echo "faultdisk-guest: written"
                read answer
                %11$s
                """.formatted(
                        client.attach(port, "fs", f),
                        f,
                        client.detach(f),
                        client.attach(port, "raw", r),
                        r,
                        FLUSHED_AT / 65536,
                        UNFLUSHED_AT / 65536,
                        DISCARD_AT,
                        (FAULT_AT + 4096) / 4096,
                        FAULT_AT / 4096,
                        client.detach(r));
        List<Path> files = List.of(dir.resolve("a.bin"), dir.resolve("b.bin"), dir.resolve("f.bin"));
        try (LinuxGuest guest = LinuxGuest.start(dir, job, files, client.qemuArgs(fs, raw))) {
            assertEquals(
                    "faultdisk-guest: faulted read: failed",
                    guest.awaitLine("faultdisk-guest: faulted read", GUEST),
                    "the error rule's EIO reached the guest's read");
            guest.awaitLine("faultdisk-guest: written", GUEST);
            assertEquals(client.connections, connectionsTo(port), "NBD connections to the server");

            var stats = fd.queryBlockstats("raw");
            assertTrue(stats.op("flush").operations() >= 1, "conv=fsync sent NBD FLUSH: " + stats);
            assertTrue(stats.op("trim").operations() >= 1, "blkdiscard sent NBD TRIM: " + stats);
            assertEquals(1, stats.op("read").errors(), "one read failed, the faulted one: " + stats);
            WriteCacheInfo cache = fd.queryWriteCache("raw");
            assertTrue(cache.dirtyBytes() >= MIB, "the unflushed MiB waits in the cache: " + cache);
            byte[] before = copyOut(raw, dir.resolve("before.raw"));
            assertArrayEquals(flushed, slice(before, FLUSHED_AT, MIB), "the flushed write, read back");
            assertArrayEquals(unflushed, slice(before, UNFLUSHED_AT, MIB), "the cache serves the unflushed one");

            PowerFailReport cut = fd.powerFail("raw", PowerFailMode.DROP_ALL, SEED);
            assertTrue(cut.bytesLost() >= MIB, "the unflushed MiB is lost: " + cut);
            byte[] after = copyOut(raw, dir.resolve("after.raw"));
            assertArrayEquals(flushed, slice(after, FLUSHED_AT, MIB), "the flushed write survives the cut");
            assertArrayEquals(new byte[MIB], slice(after, UNFLUSHED_AT, MIB), "the unflushed write is gone");

            guest.send("done");
            assertEquals(0, guest.awaitExit(GUEST), "the guest's job: " + guest.consoleText());
        }

        Path image = dir.resolve("fs.raw");
        copyOut(fs, image);
        assertEquals(
                0, Command.run(COPY, "e2fsck", "-f", "-n", image.toString()).exit(), "ext4 the guest made is clean");
        Path dumped = dir.resolve("f.out");
        Command.run(COPY, "debugfs", "-R", "dump /f.bin " + dumped, image.toString())
                .assertOk("debugfs dump");
        assertArrayEquals(file, Files.readAllBytes(dumped), "the file the guest wrote through ext4");
    }

    @ParameterizedTest
    @CsvSource({"KERNEL, barrier=1", "KERNEL, barrier=0", "QEMU, barrier=1", "QEMU, barrier=0"})
    void fsyncedFileOnExt4SurvivesAPowerCutOnlyWithBarriers(
            Client client, String barrier, FaultdiskClient fd, @ExportUri("ext4") String uri, @TempDir Path dir)
            throws Exception {
        LinuxGuest.require();
        Tools.require("nbdcopy", "debugfs", "e2fsck");
        byte[] file = bytes(new SplittableRandom(SEED + 1), 1 << 20);
        Files.write(dir.resolve("f.bin"), file);
        String d = client.fsDevice;
        String job = """
                %1$s
                mkfs.ext4 -q -F -E lazy_itable_init=0,lazy_journal_init=0 %2$s
                mount -t ext4 -o %3$s %2$s /mnt
                sync
                echo "faultdisk-guest: mounted"
                read answer
                dd if=/files/f.bin of=/mnt/precious bs=64k conv=fsync
                echo "faultdisk-guest: fsynced"
                read answer
                """.formatted(client.attach(URI.create(uri).getPort(), "ext4", d), d, barrier);
        long flushes;
        PowerFailReport cut;
        try (LinuxGuest guest = LinuxGuest.start(dir, job, List.of(dir.resolve("f.bin")), client.qemuArgs(uri))) {
            guest.awaitLine("faultdisk-guest: mounted", GUEST);
            long before = fd.queryBlockstats("ext4").op("flush").operations();
            guest.send("go");
            guest.awaitLine("faultdisk-guest: fsynced", GUEST);
            flushes = fd.queryBlockstats("ext4").op("flush").operations() - before;
            cut = fd.powerFail("ext4", PowerFailMode.DROP_ALL, SEED);
            guest.send("go");
            assertEquals(0, guest.awaitExit(GUEST), "the guest's job: " + guest.consoleText());
        }
        Path image = dir.resolve("ext4.raw");
        copyOut(uri, image);
        int fsck = Command.run(COPY, "e2fsck", "-f", "-y", image.toString()).exit();
        assertTrue(fsck < 4, "e2fsck -fy left errors (exit " + fsck + ")");
        Path dumped = dir.resolve("precious.out");
        Command.run(COPY, "debugfs", "-R", "dump /precious " + dumped, image.toString());
        boolean intact = Files.exists(dumped) && Arrays.equals(file, Files.readAllBytes(dumped));
        System.out.println("[" + client + " client, " + barrier + "] fsync sent " + flushes + " flushes; the cut lost "
                + cut.bytesLost() + " bytes of " + cut.writesLost() + " writes; e2fsck exit " + fsck + "; file "
                + (intact ? "intact" : "lost or damaged"));
        if (barrier.equals("barrier=1")) {
            assertTrue(flushes > 0, "fsync reached the server as NBD FLUSH");
            assertTrue(intact, "the fsynced file survives the cut");
        } else {
            assertEquals(0, flushes, "barrier=0 sends no flush");
            assertTrue(cut.bytesLost() > 0, "the cut lost unflushed data: " + cut);
            assertFalse(intact, "nothing unflushed survives drop-all, so the file cannot");
        }
    }

    /**
     * A disk gone silent, as the kernel sees it: a hang rule holds one read, and the kernel's
     * request timeout ({@code nbd-client -t}) ends it: the connection is declared dead and the
     * read fails with EIO; the server, which held the request meanwhile, lets it go with the
     * connection.
     */
    @Test
    void kernelClientTimesOutAReadTheServerHolds(FaultdiskClient fd, @ExportUri("silent") String uri, @TempDir Path dir)
            throws Exception {
        LinuxGuest.require();
        fd.faultAdd("silent", FaultRule.hang().ops("read").range(FAULT_AT, 4096));
        String job = """
                nbd-client 10.0.2.2 %d /dev/nbd0 -N silent -t %d
                dd if=/dev/nbd0 of=/dev/null bs=4k skip=%d count=1 iflag=direct
                echo "faultdisk-guest: reading"
                t0=$(date +%%s)
                if dd if=/dev/nbd0 of=/dev/null bs=4k skip=%d count=1 iflag=direct; then
                  echo "faultdisk-guest: held read: succeeded"
                else
                  echo "faultdisk-guest: held read: failed after $(( $(date +%%s) - t0 )) s"
                fi
                dmesg | grep -q "nbd0: Connection timed out" && echo "faultdisk-guest: kernel: timed out"
                """.formatted(URI.create(uri).getPort(), TIMEOUT_SECONDS, FAULT_AT / 4096 + 1, FAULT_AT / 4096);
        try (LinuxGuest guest = LinuxGuest.start(dir, job)) {
            guest.awaitLine("faultdisk-guest: reading", GUEST);
            await("the server holds the guest's read")
                    .atMost(Duration.ofSeconds(TIMEOUT_SECONDS))
                    .until(() -> fd.queryHeldRequests("silent").size() == 1);
            HeldRequest held = fd.queryHeldRequests("silent").get(0);
            assertEquals("read", held.operation());
            assertEquals(FAULT_AT, held.offset());
            String failed = guest.awaitLine("faultdisk-guest: held read", GUEST);
            String prefix = "faultdisk-guest: held read: failed after ";
            assertTrue(failed.startsWith(prefix), "the held read failed in the guest: " + failed);
            long seconds = Long.parseLong(failed.substring(prefix.length()).replace(" s", ""));
            assertTrue(
                    seconds >= TIMEOUT_SECONDS && seconds < 6L * TIMEOUT_SECONDS,
                    "the kernel gave up on the read after its timeout: " + failed);
            guest.awaitLine("faultdisk-guest: kernel: timed out", GUEST);
            assertEquals(0, guest.awaitExit(GUEST), "the guest's job: " + guest.consoleText());
            await("the held read let go once the kernel closed its connection")
                    .atMost(Duration.ofSeconds(10))
                    .until(() -> fd.queryHeldRequests("silent").isEmpty());
        }
    }

    /** Established TCP connections on the server's port (ss, from iproute2). */
    private static long connectionsTo(int port) {
        CommandResult ss = Command.run(COPY, "ss", "-Htn", "state", "established", "( sport = :" + port + " )");
        ss.assertOk("ss");
        return ss.stdout().lines().filter(l -> !l.isBlank()).count();
    }

    private static byte[] bytes(SplittableRandom random, int size) {
        byte[] b = new byte[size];
        random.nextBytes(b);
        return b;
    }

    private static byte[] copyOut(String uri, Path to) throws Exception {
        Command.run(COPY, "nbdcopy", uri, to.toString()).assertOk("nbdcopy " + uri);
        return Files.readAllBytes(to);
    }

    private static byte[] slice(byte[] b, long at, int length) {
        return Arrays.copyOfRange(b, (int) at, (int) at + length);
    }
}
