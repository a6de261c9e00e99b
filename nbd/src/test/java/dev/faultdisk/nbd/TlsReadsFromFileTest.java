package dev.faultdisk.nbd;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.faultdisk.device.BlockDevice;
import dev.faultdisk.device.BlockRequest;
import dev.faultdisk.device.ForwardingBlockDevice;
import dev.faultdisk.device.MemoryDevice;
import dev.faultdisk.device.ReadSource;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Arrays;
import java.util.Random;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * Large reads over TLS whose bytes the stack says lie in a file ({@link BlockDevice#readSource}):
 * sealed from the file's mapping, or, for a file too large to map, read from that file into a
 * buffer. Either way the client gets the file's bytes, and the read goes through the stack once
 * (a layer that counts reads counts it once), for X.509 sessions (the JDK's engine) and
 * pre-shared keys (their own records).
 */
class TlsReadsFromFileTest {
    private static final int MIB = 1 << 20;

    /** A memory device whose reads come from {@code file} when asked where they lie; counts both. */
    private static final class FileSourced extends ForwardingBlockDevice {
        private final FileChannel file;
        final AtomicInteger sources = new AtomicInteger();
        final AtomicInteger reads = new AtomicInteger();

        FileSourced(FileChannel file) {
            super(new MemoryDevice(4 * MIB));
            this.file = file;
        }

        @Override
        public ReadSource readSource(BlockRequest r) {
            sources.incrementAndGet();
            return new ReadSource.File(file);
        }

        @Override
        public void read(BlockRequest r, ByteBuffer dst) throws IOException {
            reads.incrementAndGet();
            super.read(r, dst);
        }
    }

    @ParameterizedTest(name = "{0}, a file of {1} bytes")
    @CsvSource({
        "x509, 4194304", // mapped
        "psk-gcm, 4194304",
        "psk-tls13, 4194304",
        "x509-jdk, 4194304",
        "x509, 2199023255552", // 2 TiB, sparse past its first MiBs: over the mapping limit
        "psk-gcm, 2199023255552"
    })
    void aLargeReadGetsTheFilesBytesThroughTheStackOnce(String kind, long fileSize, @TempDir Path dir)
            throws IOException {
        byte[] content = new byte[4 * MIB];
        new Random(0x5ea1).nextBytes(content);
        try (FileChannel file = FileChannel.open(
                dir.resolve("img.raw"), StandardOpenOption.CREATE, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
            file.write(ByteBuffer.wrap(content), 0);
            file.truncate(fileSize);
            if (file.size() < fileSize) {
                file.write(ByteBuffer.allocate(1), fileSize - 1); // truncate does not grow a file
            }
            FileSourced device = new FileSourced(file);
            try (TlsLocalServer server = new TlsLocalServer(kind, dir, device);
                    RawNbdClient client = server.open()) {
                long sealedBefore = server.server().readsSealedFromFile();
                byte[] got = client.read(MIB / 2, 2 * MIB);
                assertArrayEquals(Arrays.copyOfRange(content, MIB / 2, MIB / 2 + 2 * MIB), got, "the file's bytes");
                assertEquals(1, device.sources.get(), "the stack was asked once where the read lies");
                assertEquals(0, device.reads.get(), "and not asked for the read again");
                long sealed = server.server().readsSealedFromFile() - sealedBefore;
                assertEquals(fileSize <= 4 * MIB ? 1 : 0, sealed, "sealed from the mapping only where it maps");
                assertEquals(0, server.server().readsSentFromFile(), "nothing sent around the session");
            }
        }
    }
}
