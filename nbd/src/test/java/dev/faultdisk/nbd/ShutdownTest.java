package dev.faultdisk.nbd;

import static dev.faultdisk.nbd.NbdProtocol.*;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.faultdisk.device.MemoryDevice;
import dev.faultdisk.export.Export;
import dev.faultdisk.export.ExportRegistry;
import dev.faultdisk.export.ExportSpec;
import java.io.IOException;
import java.net.ConnectException;
import java.net.InetSocketAddress;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Graceful shutdown: live connections are closed, the call returns, file data reaches the file. */
class ShutdownTest {

    @Test
    void shutdownClosesLiveConnectionsAndReturns() throws IOException {
        ExportRegistry registry = registry("disk=memory:16M");
        NbdServer server = new NbdServer(registry).start(new InetSocketAddress("127.0.0.1", 0));
        try (RawNbdClient transmitting = RawNbdClient.open(server.port(), "disk", true, true);
                RawNbdClient negotiating = RawNbdClient.connect(server.port());
                RawNbdClient greeted = RawNbdClient.connect(server.port())) {
            negotiating.clientFlags(FLAG_C_FIXED_NEWSTYLE | FLAG_C_NO_ZEROES);
            negotiating.expectAck(negotiating.option(OPT_STRUCTURED_REPLY, new byte[0]));
            transmitting.write(0, new byte[] {1, 2, 3});
            assertEquals(3, server.connectionCount());

            assertTimeoutPreemptively(Duration.ofSeconds(10), () -> server.shutdown(Duration.ofSeconds(5)));
            assertTrue(server.isShuttingDown());
            assertEquals(0, server.connectionCount());
            assertTrue(transmitting.isDropped());
            assertTrue(negotiating.isDropped());
            assertTrue(greeted.isDropped());
            assertThrows(
                    ConnectException.class,
                    () -> RawNbdClient.connect(server.port()).close());
        } finally {
            registry.close();
        }
    }

    @Test
    void shutdownReturnsAfterGraceWhenAClientStopsReading() throws IOException {
        ExportRegistry registry = registry("disk=memory:64M");
        NbdServer server = new NbdServer(registry).start(new InetSocketAddress("127.0.0.1", 0));
        try (RawNbdClient stuck = RawNbdClient.open(server.port(), "disk", false, false)) {
            stuck.write(0, HostileClientTest.pattern(1 << 20, 1)); // so that reads return data, not holes
            // 64 MiB of replies that nobody reads: the server blocks in a socket write.
            for (int i = 0; i < 64; i++) {
                stuck.send(0, CMD_READ, i, 0, 1 << 20, null);
            }
            stuck.flush();
            await("a reply write blocked on the unread socket")
                    .atMost(Duration.ofSeconds(10))
                    .until(() -> server.connections().stream().anyMatch(ConnectionInfo::writingReply));
            assertTimeoutPreemptively(Duration.ofSeconds(10), () -> server.shutdown(Duration.ofMillis(300)));
            await("the stuck connection's thread has ended")
                    .atMost(Duration.ofSeconds(2))
                    .until(() -> server.connectionCount() == 0);
        } finally {
            registry.close();
        }
    }

    @Test
    void shutdownLetsARequestInFlightOffTheReaderAnswer() throws Exception {
        AsyncDispatchTest.HoldingDevice device = new AsyncDispatchTest.HoldingDevice(new MemoryDevice(1 << 20));
        ExportRegistry registry = new ExportRegistry();
        registry.add(new Export("d", device, false));
        NbdServer server = new NbdServer(registry).start(new InetSocketAddress("127.0.0.1", 0));
        Thread stopper = null;
        try (RawNbdClient c = RawNbdClient.open(server.port(), "d", false, false)) {
            c.send(0, CMD_READ, 1, 0, 512, null); // held inside the device
            c.flush();
            assertTrue(device.held.await(5, TimeUnit.SECONDS));
            stopper = Thread.ofPlatform().start(() -> server.shutdown(Duration.ofSeconds(5)));
            await("the reader has seen the end of input")
                    .atMost(Duration.ofSeconds(10))
                    .until(() -> server.connections().stream()
                            .allMatch(info -> info.phase() == ConnectionInfo.Phase.DRAINING));
            device.release.countDown();
            List<RawNbdClient.Reply> reply = c.readAll(1);
            assertEquals(0, RawNbdClient.errorOf(reply));
            assertEquals(512, RawNbdClient.assemble(0, 512, reply).length);
            assertTrue(c.isDropped());
        } finally {
            device.release.countDown();
            if (stopper != null) {
                stopper.join(10_000);
            }
            server.close();
            registry.close();
        }
        assertEquals(0, server.connectionCount());
    }

    @Test
    void disconnectWaitingForAHeldRequestEndsWhenShutdownGraceIsOver() throws Exception {
        AsyncDispatchTest.HoldingDevice device = new AsyncDispatchTest.HoldingDevice(new MemoryDevice(1 << 20));
        ExportRegistry registry = new ExportRegistry();
        registry.add(new Export("d", device, false));
        NbdServer server = new NbdServer(registry).start(new InetSocketAddress("127.0.0.1", 0));
        try (RawNbdClient c = RawNbdClient.open(server.port(), "d", false, false)) {
            c.send(0, CMD_READ, 1, 0, 512, null); // held, and never released while the server stops
            c.flush();
            assertTrue(device.held.await(5, TimeUnit.SECONDS));
            c.disconnect(); // DISC waits for the held read, as the spec says
            assertTimeoutPreemptively(Duration.ofSeconds(10), () -> server.shutdown(Duration.ofMillis(300)));
            await("the reader gave up waiting once its connection was closed")
                    .atMost(Duration.ofSeconds(3))
                    .until(() -> server.connectionCount() == 0);
            assertTrue(c.isDropped());
        } finally {
            device.release.countDown();
            registry.close();
        }
    }

    @Test
    void fileDataWrittenBeforeShutdownIsOnDiskAfterClose(@TempDir Path dir) throws IOException {
        Path image = dir.resolve("data.img");
        ExportRegistry registry = registry("data=" + image + ",size=8M");
        NbdServer server = new NbdServer(registry).start(new InetSocketAddress("127.0.0.1", 0));
        byte[] expected = new byte[8 << 20];
        try (RawNbdClient c = RawNbdClient.open(server.port(), "data", true, true)) {
            // Twenty writes in flight at once, no FUA and no FLUSH: only shutdown and close make them durable.
            for (int i = 0; i < 20; i++) {
                byte[] data = HostileClientTest.pattern(100_000, i);
                long offset = i * 300_000L + i;
                System.arraycopy(data, 0, expected, (int) offset, data.length);
                c.send(0, CMD_WRITE, i, offset, data.length, data);
            }
            c.flush();
            for (int i = 0; i < 20; i++) {
                assertEquals(0, c.readReply().errorValue());
            }
            server.shutdown(Duration.ofSeconds(5));
            assertTrue(c.isDropped());
        }
        registry.close();
        assertArrayEquals(expected, Files.readAllBytes(image));
    }

    @Test
    void unixSocketFileIsRemovedAtShutdown(@TempDir Path dir) throws IOException {
        Path socket = dir.resolve("nbd.sock");
        ExportRegistry registry = registry("disk=memory:1M");
        NbdServer server = new NbdServer(registry).start(UnixDomainSocketAddress.of(socket));
        try (SocketChannel ch = SocketChannel.open(StandardProtocolFamily.UNIX)) {
            ch.connect(UnixDomainSocketAddress.of(socket));
            ByteBuffer greeting = ByteBuffer.allocate(18);
            while (greeting.hasRemaining() && ch.read(greeting) >= 0) {
                // read the whole greeting
            }
            assertEquals(NBDMAGIC, greeting.getLong(0));
            server.shutdown(Duration.ofSeconds(5));
            assertEquals(-1, ch.read(ByteBuffer.allocate(1)), "closed by the server");
        } finally {
            registry.close();
        }
        assertFalse(Files.exists(socket));
    }

    @Test
    void secondShutdownIsHarmless() throws IOException {
        ExportRegistry registry = registry("disk=memory:1M");
        NbdServer server = new NbdServer(registry).start(new InetSocketAddress("127.0.0.1", 0));
        server.shutdown(Duration.ofSeconds(1));
        server.close();
        registry.close();
        assertTrue(server.isShuttingDown());
    }

    private static ExportRegistry registry(String... specs) throws IOException {
        ExportRegistry registry = new ExportRegistry();
        for (String s : specs) {
            registry.add(Export.open(ExportSpec.parse(s)));
        }
        return registry;
    }
}
