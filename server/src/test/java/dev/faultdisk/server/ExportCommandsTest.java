package dev.faultdisk.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.faultdisk.device.BlockRequest;
import dev.faultdisk.device.DeviceException;
import dev.faultdisk.export.Export;
import dev.faultdisk.export.ExportRegistry;
import dev.faultdisk.wire.BlockOp;
import dev.faultdisk.wire.Errno;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/** export-add and export-remove: an added export is wired like any other; bad input changes nothing. */
class ExportCommandsTest {
    @RegisterExtension
    final RunningServer fd = new RunningServer(b -> b.export("d0=memory:1M").faultSeed(5));

    @TempDir
    Path dir;

    private List<String> names() {
        return fd.server.exports().all().stream().map(Export::name).toList();
    }

    private static void write(Export export, long offset) throws IOException {
        export.device().write(BlockRequest.of(BlockOp.WRITE, offset, 512), ByteBuffer.allocate(512));
    }

    @Test
    void anAddedExportHasItsSpecAndIsWiredLikeOneFromTheCommandLine() throws Exception {
        Map<String, Object> added = fd.executeMap("{\"execute\": \"export-add\", \"arguments\": {\"name\": \"d1\", "
                + "\"spec\": \"memory:2M,cache=writeback\"}}");
        assertEquals("d1", added.get("name"));
        assertEquals(2L << 20, added.get("size"));
        assertEquals(false, added.get("read-only"));
        Export d1 = fd.export("d1");
        assertEquals("writeback", d1.writeCache().status().mode().label());
        assertEquals(List.of("d0", "d1"), names());

        // Fault events and the journal.
        fd.execute("{\"execute\": \"fault-add\", \"arguments\": {\"device\": \"d1\", \"rules\": "
                + "[{\"type\": \"error\", \"ops\": [\"write\"], \"errno\": \"ENOSPC\", \"times\": 1}]}}");
        DeviceException e = assertThrows(DeviceException.class, () -> write(d1, 0));
        assertEquals(Errno.ENOSPC, e.errno());
        assertEquals("d1", fd.awaitEvent("FAULT_INJECTED").get("device"));
        // blkdebug events.
        fd.execute("{\"execute\": \"blkdebug-set-rules\", \"arguments\": {\"device\": \"d1\", \"rules\": "
                + "[{\"type\": \"inject-error\", \"event\": \"write_aio\", \"once\": true}]}}");
        assertThrows(DeviceException.class, () -> write(d1, 0));
        assertEquals("d1", fd.awaitEvent("BLOCK_IO_ERROR").get("device"));
        // Triggers see its requests.
        fd.execute("{\"execute\": \"trigger-add\", \"arguments\": {\"triggers\": [{\"when\": {\"device\": \"d1\", "
                + "\"ops\": [\"write\"]}, \"actions\": [{\"action\": \"fail\", \"errno\": \"EROFS\"}]}]}}");
        assertEquals(
                Errno.EROFS,
                assertThrows(DeviceException.class, () -> write(d1, 0)).errno());
        assertTrue(fd.awaitEvent("TRIGGER_FIRED").toString().contains("device=d1"));
        Map<String, Object> journal = fd.executeMap("{\"execute\": \"query-fault-journal\", \"arguments\": {}}");
        assertTrue(journal.get("entries").toString().contains("export-added"), journal.toString());
    }

    @Test
    void badInputIsAClearErrorAndChangesNothing() throws Exception {
        assertEquals(
                "GenericError: export 'd0' exists already",
                fd.error("{\"execute\": \"export-add\", \"arguments\": {\"name\": \"d0\", \"spec\": \"memory:1M\"}}"));
        assertTrue(fd.error(
                        "{\"execute\": \"export-add\", \"arguments\": {\"name\": \"x\", \"spec\": \"memory:1M,fast\"}}")
                .startsWith("GenericError: export 'x': unknown export option 'fast'"));
        Path missing = dir.resolve("missing.img");
        assertTrue(fd.error("{\"execute\": \"export-add\", \"arguments\": {\"name\": \"x\", \"spec\": \"" + missing
                        + "\"}}")
                .contains("does not exist (add ,size=SIZE to create it)"));
        assertFalse(Files.exists(missing));
        assertEquals(
                "DeviceNotFound: Device 'nope' not found (exports: d0)",
                fd.error("{\"execute\": \"export-remove\", \"arguments\": {\"name\": \"nope\"}}"));
        // A near miss is named, and every command that takes a device says the same.
        assertEquals(
                "DeviceNotFound: Device 'D0' not found (did you mean d0? exports: d0)",
                fd.error("{\"execute\": \"query-blockstats\", \"arguments\": {\"device\": \"D0\"}}"));
        fd.execute(
                "{\"execute\": \"trigger-add\", \"arguments\": {\"triggers\": [{\"when\": {\"device\": \"d0\", \"ops\": [\"read\"]}, "
                        + "\"actions\": [{\"action\": \"fail\"}]}]}}");
        assertEquals(
                "GenericError: export 'd0' is named by a trigger (see query-triggers); remove the trigger first",
                fd.error("{\"execute\": \"export-remove\", \"arguments\": {\"name\": \"d0\"}}"));
        assertEquals(List.of("d0"), names());
    }

    @Test
    void oneImageIsServedWritableByOneExportOnly() throws Exception {
        Path image = dir.resolve("one.img");
        fd.execute(
                "{\"execute\": \"export-add\", \"arguments\": {\"name\": \"w\", \"spec\": \"" + image + ",size=1M\"}}");
        long size = Files.size(image);
        // Another writable export of it, or a read-only one beside the writable one: refused, the
        // file untouched (a size that would have extended it included).
        for (String spec :
                List.of(image + ",size=2M", image + ",readonly", dir + "/../" + dir.getFileName() + "/one.img")) {
            assertEquals(
                    "GenericError: export 'x': image "
                            + spec.replace(",size=2M", "").replace(",readonly", "")
                            + " is served already as export 'w', writable: one image is served writable by one export"
                            + " only (add ,readonly to both to share it)",
                    fd.error("{\"execute\": \"export-add\", \"arguments\": {\"name\": \"x\", \"spec\": \"" + spec
                            + "\"}}"));
        }
        assertEquals(size, Files.size(image));
        assertEquals(List.of("d0", "w"), names());
        // Read-only twice is fine once the writable one is gone.
        fd.execute("{\"execute\": \"export-remove\", \"arguments\": {\"name\": \"w\"}}");
        for (String name : List.of("r1", "r2")) {
            fd.execute("{\"execute\": \"export-add\", \"arguments\": {\"name\": \"" + name + "\", \"spec\": \"" + image
                    + ",readonly\"}}");
        }
        assertEquals(List.of("d0", "r1", "r2"), names());
    }

    @Test
    void theNumberOfExportsIsCapped() {
        for (int i = 1; i < ExportRegistry.MAX_EXPORTS; i++) {
            fd.execute("{\"execute\": \"export-add\", \"arguments\": {\"name\": \"e" + i
                    + "\", \"spec\": \"memory:64k\"}}");
        }
        assertEquals(
                "GenericError: a server holds at most 256 exports",
                fd.error(
                        "{\"execute\": \"export-add\", \"arguments\": {\"name\": \"one-more\", \"spec\": \"memory:64k\"}}"));
        fd.execute("{\"execute\": \"export-remove\", \"arguments\": {\"name\": \"e1\"}}");
        fd.execute("{\"execute\": \"export-add\", \"arguments\": {\"name\": \"one-more\", \"spec\": \"memory:64k\"}}");
    }

    @Test
    void removalFailsHeldRequestsThenFlushesAndClosesTheFile() throws Exception {
        Path image = dir.resolve("d1.img");
        fd.execute("{\"execute\": \"export-add\", \"arguments\": {\"name\": \"d1\", \"spec\": \"" + image
                + ",size=1M,cache=writeback\"}}");
        Export d1 = fd.export("d1");
        d1.device().write(BlockRequest.of(BlockOp.WRITE, 0, 1), ByteBuffer.wrap(new byte[] {7}));
        fd.execute("{\"execute\": \"fault-add\", \"arguments\": {\"device\": \"d1\", \"rules\": "
                + "[{\"type\": \"hang\", \"ops\": [\"write\"]}]}}");
        CompletableFuture<Void> held = CompletableFuture.runAsync(
                () -> {
                    try {
                        write(d1, 4096);
                    } catch (IOException e) {
                        throw new UncheckedIOException(e);
                    }
                },
                r -> Thread.ofVirtual().start(r));
        assertEquals("held", fd.awaitEvent("FAULT_INJECTED").get("action"));

        Map<String, Object> removed =
                fd.executeMap("{\"execute\": \"export-remove\", \"arguments\": {\"name\": \"d1\"}}");
        assertEquals(1L, removed.get("held-failed"));
        assertEquals(0L, removed.get("connections"));
        ExecutionException failed = assertThrows(ExecutionException.class, () -> held.get(10, TimeUnit.SECONDS));
        assertEquals(
                Errno.ESHUTDOWN,
                assertInstanceOf(DeviceException.class, failed.getCause().getCause())
                        .errno());
        assertEquals(List.of("d0"), names());
        assertEquals(7, Files.readAllBytes(image)[0], "the cached write was flushed to the file");
        assertEquals(
                "DeviceNotFound: Device 'd1' not found (exports: d0)",
                fd.error("{\"execute\": \"query-write-cache\", \"arguments\": {\"device\": \"d1\"}}"));
        // The name is free again.
        fd.execute("{\"execute\": \"export-add\", \"arguments\": {\"name\": \"d1\", \"spec\": \"" + image + "\"}}");
    }
}
