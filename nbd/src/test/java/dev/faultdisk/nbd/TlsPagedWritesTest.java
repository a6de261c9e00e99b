package dev.faultdisk.nbd;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.faultdisk.device.BlockRequest;
import dev.faultdisk.device.ForwardingBlockDevice;
import dev.faultdisk.device.MemoryDevice;
import dev.faultdisk.device.StagedPages;
import dev.faultdisk.device.StagedPayload;
import java.io.IOException;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Random;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Large writes over TLS to a memory export go into its pages, asked for once each: with nothing
 * to splice, the reader decrypts the payload's start before it asks (only decrypted bytes show a
 * payload has started), rather than taking the pages at the header and giving them back.
 */
class TlsPagedWritesTest {
    private static final int MIB = 1 << 20;

    /** A memory export that counts the pages asked of it and those it gave. */
    private static final class CountingPages extends ForwardingBlockDevice {
        final AtomicInteger asked = new AtomicInteger();
        final AtomicInteger given = new AtomicInteger();
        private final MemoryDevice memory;

        CountingPages(MemoryDevice memory) {
            super(memory);
            this.memory = memory;
        }

        @Override
        public StagedPages stagePages(long offset, int length) {
            asked.incrementAndGet();
            StagedPages pages = memory.stagePages(offset, length);
            if (pages != null) {
                given.incrementAndGet();
            }
            return pages;
        }

        @Override
        public boolean writeStaged(BlockRequest r, StagedPayload payload) throws IOException {
            return memory.writeStaged(r, payload);
        }
    }

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"x509", "psk-tls13"})
    void eachLargeWriteAsksForItsPagesOnce(String kind, @TempDir Path dir) throws IOException {
        int writes = 6;
        int odd = 700_001; // the last one starts and ends inside pages
        CountingPages device = new CountingPages(new MemoryDevice(8L * MIB));
        byte[] expected = new byte[writes * MIB];
        new Random(0x7a6e).nextBytes(expected);
        try (TlsLocalServer server = new TlsLocalServer(kind, dir, device);
                RawNbdClient client = server.open()) {
            for (int i = 0; i < writes - 1; i++) {
                client.write((long) i * MIB, Arrays.copyOfRange(expected, i * MIB, (i + 1) * MIB));
            }
            int at = (writes - 1) * MIB + 3;
            client.write(at, Arrays.copyOfRange(expected, at, at + odd));
            Arrays.fill(expected, at - 3, at, (byte) 0); // never written
            assertEquals(writes, server.server().writesIntoPages(), "writes put in place as pages");
            assertEquals(writes, device.given.get(), "pages given");
            assertEquals(writes, device.asked.get(), "pages asked for");
            byte[] got = client.read(0, (writes - 1) * MIB + 3 + odd);
            assertArrayEquals(Arrays.copyOf(expected, got.length), got, "the export's bytes");
        }
    }
}
