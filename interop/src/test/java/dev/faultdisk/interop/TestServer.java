package dev.faultdisk.interop;

import dev.faultdisk.device.BlockDevice;
import dev.faultdisk.device.ForwardingBlockDevice;
import dev.faultdisk.export.Export;
import dev.faultdisk.export.ExportRegistry;
import dev.faultdisk.export.ExportSpec;
import dev.faultdisk.fault.blkdebug.BlkdebugEngine;
import dev.faultdisk.nbd.NbdServer;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.net.UnixDomainSocketAddress;
import java.nio.file.Path;
import java.time.Duration;

/** An in-process faultdisk NBD server on a free loopback port (or a Unix socket), for tests. */
public final class TestServer implements AutoCloseable {
    private static final String OFF_READER = ",offreader";
    private final ExportRegistry registry = new ExportRegistry();
    private final NbdServer server;

    /** Starts a server with exports given as {@code NAME=SPEC}, as on the command line. */
    public TestServer(String... exports) throws IOException {
        this(new InetSocketAddress("127.0.0.1", 0), exports);
    }

    private TestServer(SocketAddress address, String... exports) throws IOException {
        for (String e : exports) {
            registry.add(open(e));
        }
        server = new NbdServer(registry).dropConnectionsOnPowerFail().start(address); // as the real server does
    }

    /**
     * Opens {@code NAME=SPEC}. A trailing {@value #OFF_READER} (known to tests only) puts a layer
     * in the stack that says it may block, as fault layers do: the server then runs every request
     * on its own virtual thread instead of inline on the connection's reader.
     */
    private static Export open(String text) throws IOException {
        boolean offReader = text.endsWith(OFF_READER);
        ExportSpec spec = ExportSpec.parse(offReader ? text.substring(0, text.length() - OFF_READER.length()) : text);
        if (!offReader) {
            return Export.open(spec);
        }
        BlockDevice backend = new ForwardingBlockDevice(spec.openBackend()) {
            @Override
            public boolean mayBlock() {
                return true;
            }
        };
        return new Export(spec.name(), backend, spec.readOnly(), new BlkdebugEngine(), spec.cache());
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
     * image {@code dir/NAME.img}, created with the size. Either with the suffix "-offreader" runs
     * requests off the reader thread (see {@link #open}).
     */
    public static String spec(String name, String backend, Path dir, String size) {
        boolean offReader = backend.endsWith("-offreader");
        String spec = switch (offReader ? backend.substring(0, backend.length() - "-offreader".length()) : backend) {
            case "memory" -> name + "=memory:" + size;
            case "file" -> name + "=" + dir.resolve(name + ".img") + ",size=" + size;
            default -> throw new IllegalArgumentException("backend " + backend);
        };
        return offReader ? spec + OFF_READER : spec;
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
