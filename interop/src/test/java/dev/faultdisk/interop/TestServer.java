package dev.faultdisk.interop;

import dev.faultdisk.device.Export;
import dev.faultdisk.device.ExportRegistry;
import dev.faultdisk.device.ExportSpec;
import dev.faultdisk.nbd.NbdServer;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.net.UnixDomainSocketAddress;
import java.nio.file.Path;
import java.time.Duration;

/** An in-process faultdisk NBD server on a free loopback port (or a Unix socket), for tests. */
public final class TestServer implements AutoCloseable {
    private final ExportRegistry registry = new ExportRegistry();
    private final NbdServer server;

    /** Starts a server with exports given as {@code NAME=SPEC}, as on the command line. */
    public TestServer(String... exports) throws IOException {
        this(new InetSocketAddress("127.0.0.1", 0), exports);
    }

    private TestServer(SocketAddress address, String... exports) throws IOException {
        for (String e : exports) {
            registry.add(Export.open(ExportSpec.parse(e)));
        }
        server = new NbdServer(registry).start(address);
    }

    /** Starts a server listening on the Unix socket {@code socket} instead of TCP. */
    public static TestServer onUnixSocket(Path socket, String... exports) throws IOException {
        return new TestServer(UnixDomainSocketAddress.of(socket), exports);
    }

    public int port() {
        return server.port();
    }

    /** {@code nbd://127.0.0.1:PORT/NAME}, or {@code nbd+unix:///NAME?socket=PATH} on a Unix socket. */
    public String uri(String export) {
        if (server.address() instanceof UnixDomainSocketAddress unix) {
            return "nbd+unix:///" + export + "?socket=" + unix.getPath();
        }
        return "nbd://127.0.0.1:" + port() + "/" + export;
    }

    public ExportRegistry exports() {
        return registry;
    }

    /** The export named {@code name}; fails if there is none. */
    public Export export(String name) {
        return registry.find(name).orElseThrow(() -> new IllegalArgumentException("no export " + name));
    }

    /**
     * {@code NAME=SPEC} for a {@code backend} of "memory" or "file"; a file backend is a sparse
     * image {@code dir/NAME.img}, created with the size.
     */
    public static String spec(String name, String backend, Path dir, String size) {
        return switch (backend) {
            case "memory" -> name + "=memory:" + size;
            case "file" -> name + "=" + dir.resolve(name + ".img") + ",size=" + size;
            default -> throw new IllegalArgumentException("backend " + backend);
        };
    }

    public NbdServer server() {
        return server;
    }

    @Override
    public void close() throws IOException {
        server.shutdown(Duration.ofSeconds(5));
        registry.close();
    }
}
