package dev.faultdisk.fault;

import dev.faultdisk.device.BlockDevice;
import dev.faultdisk.device.BlockRequest;
import dev.faultdisk.device.Io;
import dev.faultdisk.device.MemoryDevice;
import dev.faultdisk.export.Export;
import dev.faultdisk.fault.blkdebug.BlkdebugEngine;
import dev.faultdisk.wire.BlockOp;
import dev.faultdisk.wire.CacheMode;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** An in-memory export with fault rules on virtual time and a journal: the fixture of the fault tests. */
final class Disk implements AutoCloseable {
    static final Instant START = Instant.parse("2030-01-01T00:00:00Z");

    final VirtualTime time;
    final Export export;
    final FaultJournal journal;

    private Disk(long size, VirtualTime time, long seed) {
        this.time = time;
        this.export = new Export(
                "d",
                new MemoryDevice(size),
                false,
                new BlkdebugEngine(),
                CacheMode.WRITETHROUGH,
                time.faultTime(),
                seed);
        this.journal = new FaultJournal(time, 100_000);
        export.faults().addListener(journal);
    }

    /** A disk whose sleeps move the clock at once. */
    static Disk auto(long size) {
        return new Disk(size, VirtualTime.autoAdvancing(START), 42);
    }

    static Disk auto(long size, long seed) {
        return new Disk(size, VirtualTime.autoAdvancing(START), seed);
    }

    /** A disk whose sleepers wait for {@link VirtualTime#advance}. */
    static Disk manual(long size) {
        return new Disk(size, VirtualTime.manual(START), 42);
    }

    BlockDevice device() {
        return export.device();
    }

    FaultEngine faults() {
        return export.faults();
    }

    /** Adds rules given as maps; returns their ids. */
    @SafeVarargs
    final List<Long> add(Map<String, Object>... rules) {
        return faults().add(List.of(rules), "rules").stream().map(FaultRule::id).toList();
    }

    /** {@code rule("type", "error", "errno", "ENOSPC")}. */
    static Map<String, Object> rule(Object... kv) {
        Map<String, Object> m = new LinkedHashMap<>();
        for (int i = 0; i < kv.length; i += 2) {
            m.put((String) kv[i], kv[i + 1]);
        }
        return m;
    }

    byte[] read(long offset, int length) throws IOException {
        ByteBuffer b = ByteBuffer.allocate(length);
        Io.read(device(), offset, b);
        return b.array();
    }

    /** A read as sent by a frontend's {@code connection}, inline on its reader or not. */
    byte[] read(long offset, int length, long connection, boolean inline) throws IOException {
        ByteBuffer b = ByteBuffer.allocate(length);
        device().read(BlockRequest.of(BlockOp.READ, offset, length, 0, connection, inline), b);
        return b.array();
    }

    void write(long offset, byte[] data) throws IOException {
        Io.write(device(), offset, ByteBuffer.wrap(data), false);
    }

    /** The stored bytes, read below every fault layer. */
    byte[] stored(long offset, int length) throws IOException {
        ByteBuffer b = ByteBuffer.allocate(length);
        Io.read(export.backend(), offset, b);
        return b.array();
    }

    static byte[] filled(int length, int value) {
        return Io.filled(length, value);
    }

    /** The journal's "fault" entries. */
    List<Map<String, Object>> faultEntries() {
        return journal.entries(0, Integer.MAX_VALUE, null).stream()
                .filter(e -> "fault".equals(e.get("event")))
                .toList();
    }

    @Override
    public void close() throws IOException {
        export.close();
    }
}
