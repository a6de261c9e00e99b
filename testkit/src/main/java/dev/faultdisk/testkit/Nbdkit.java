package dev.faultdisk.testkit;

import static org.awaitility.Awaitility.await;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.UnixDomainSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * nbdkit's memory plugin (8 MiB) on a Unix socket, for tests that take nbdkit as the judge of
 * this server: started with the given options ({@code --tls=require}, {@code --tls-psk=FILE} ...),
 * ready once its socket exists; closing it stops nbdkit.
 */
public final class Nbdkit implements AutoCloseable {
    private static final Duration TIMEOUT = Duration.ofSeconds(60);

    private final Process process;
    private final Path socket;

    private Nbdkit(Process process, Path socket) {
        this.process = process;
        this.socket = socket;
    }

    /** nbdkit with {@code options} serving memory on {@code dir}/nbdkit.sock, its output in {@code dir}/nbdkit.log. */
    public static Nbdkit memory(Path dir, String... options) {
        Tools.require("nbdkit");
        Path socket = dir.resolve("nbdkit.sock");
        List<String> argv = new ArrayList<>(List.of("nbdkit", "--foreground"));
        argv.addAll(List.of(options));
        argv.addAll(List.of("-U", socket.toString(), "memory", "8M"));
        Process process;
        try {
            process = new ProcessBuilder(argv)
                    .redirectErrorStream(true)
                    .redirectOutput(dir.resolve("nbdkit.log").toFile())
                    .start();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        Nbdkit nbdkit = new Nbdkit(process, socket);
        try {
            await("nbdkit's socket").atMost(TIMEOUT).until(() -> Files.exists(socket) || !process.isAlive());
        } catch (RuntimeException e) {
            nbdkit.close();
            throw e;
        }
        if (!process.isAlive()) {
            throw new IllegalStateException("nbdkit " + argv + " ended: see " + dir.resolve("nbdkit.log"));
        }
        return nbdkit;
    }

    /** The socket's path (for qemu-io's {@code path=}). */
    public Path socket() {
        return socket;
    }

    public UnixDomainSocketAddress address() {
        return UnixDomainSocketAddress.of(socket);
    }

    @Override
    public void close() {
        process.destroy();
        try {
            process.waitFor(10, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
