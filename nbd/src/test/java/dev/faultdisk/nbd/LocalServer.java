package dev.faultdisk.nbd;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;

import dev.faultdisk.device.BlockDevice;
import dev.faultdisk.device.ForwardingBlockDevice;
import dev.faultdisk.export.Export;
import dev.faultdisk.export.ExportRegistry;
import dev.faultdisk.export.ExportSpec;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.net.UnixDomainSocketAddress;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;

/**
 * An in-process NbdServer on a free loopback port (or a Unix socket) with exports given as {@code NAME=SPEC}. With
 * {@code offReader}, every export's stack says it may block, so each request runs on its own
 * thread (the path fault layers take) instead of inline on the connection's reader.
 */
final class LocalServer implements AutoCloseable {
    private final ExportRegistry registry = new ExportRegistry();
    private final NbdServer server;
    /** The Unix socket served, or null for TCP. */
    private final Path socket;

    private int checks;

    LocalServer(String... exports) throws IOException {
        this(false, exports);
    }

    LocalServer(boolean offReader, String... exports) throws IOException {
        this(new InetSocketAddress("127.0.0.1", 0), offReader, exports);
    }

    private LocalServer(SocketAddress address, boolean offReader, String... exports) throws IOException {
        for (String e : exports) {
            ExportSpec spec = ExportSpec.parse(e);
            BlockDevice backend = spec.openBackend();
            registry.add(new Export(spec.name(), offReader ? new MayBlock(backend) : backend, spec.readOnly()));
        }
        server = new NbdServer(registry).start(address);
        socket = address instanceof UnixDomainSocketAddress unix ? unix.getPath() : null;
    }

    /** The same on a Unix socket at {@code socket}. */
    static LocalServer onUnixSocket(Path socket, String... exports) throws IOException {
        return new LocalServer(UnixDomainSocketAddress.of(socket), false, exports);
    }

    /** A server over one export {@code d} made of {@code device}. */
    LocalServer(BlockDevice device) throws IOException {
        registry.add(new Export("d", device, false));
        server = new NbdServer(registry).start(new InetSocketAddress("127.0.0.1", 0));
        socket = null;
    }

    /** Changes nothing but the answer to {@link BlockDevice#mayBlock()}. */
    private static final class MayBlock extends ForwardingBlockDevice {
        MayBlock(BlockDevice next) {
            super(next);
        }

        @Override
        public boolean mayBlock() {
            return true;
        }
    }

    int port() {
        return server.port();
    }

    NbdServer server() {
        return server;
    }

    ExportRegistry registry() {
        return registry;
    }

    /** Opens a structured, base:allocation client on {@code export}. */
    RawNbdClient open(String export) throws IOException {
        return socket != null
                ? RawNbdClient.open(socket, export, true, true)
                : RawNbdClient.open(port(), export, true, true);
    }

    /** Opens a client with extended headers and base:allocation on {@code export}. */
    RawNbdClient openExtended(String export) throws IOException {
        return RawNbdClient.negotiateExtended(
                socket != null ? RawNbdClient.connect(socket) : RawNbdClient.connect(port()), export);
    }

    /**
     * Proves the server still serves a well-behaved client on {@code client}: writes a fresh
     * pattern to {@code export}-relative offset and reads it back.
     */
    void assertServes(RawNbdClient client) throws IOException {
        checks++;
        byte[] pattern = new byte[4096];
        Arrays.fill(pattern, (byte) (0x40 + checks));
        long offset = 4096L * checks;
        client.write(offset, pattern);
        assertArrayEquals(pattern, client.read(offset, pattern.length), "well-behaved client read back");
    }

    /** Same, on a new connection to {@code export}. */
    void assertServesNewClient(String export) throws IOException {
        try (RawNbdClient c = open(export)) {
            assertServes(c);
        }
    }

    @Override
    public void close() throws IOException {
        server.shutdown(Duration.ofSeconds(5));
        registry.close();
    }
}
