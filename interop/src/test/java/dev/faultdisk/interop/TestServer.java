package dev.faultdisk.interop;

import dev.faultdisk.device.Export;
import dev.faultdisk.device.ExportRegistry;
import dev.faultdisk.device.ExportSpec;
import dev.faultdisk.nbd.NbdServer;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.time.Duration;

/** An in-process faultdisk NBD server on a free loopback port, for tests. */
public final class TestServer implements AutoCloseable {
    private final ExportRegistry registry = new ExportRegistry();
    private final NbdServer server;

    /** Starts a server with exports given as {@code NAME=SPEC}, as on the command line. */
    public TestServer(String... exports) throws IOException {
        for (String e : exports) {
            registry.add(Export.open(ExportSpec.parse(e)));
        }
        server = new NbdServer(registry).start(new InetSocketAddress("127.0.0.1", 0));
    }

    public int port() {
        return server.port();
    }

    /** {@code nbd://127.0.0.1:PORT/NAME}. */
    public String uri(String export) {
        return "nbd://127.0.0.1:" + port() + "/" + export;
    }

    public ExportRegistry exports() {
        return registry;
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
