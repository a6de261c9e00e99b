package dev.faultdisk.interop;

import static org.awaitility.Awaitility.await;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * Another NBD server serving disk0 on a Unix socket, for any number of clients in turn, as a judge
 * of this server's answers: qemu-nbd or nbdkit, this machine's or one run in another root file
 * system ({@link TrixieRoot}). Its output goes to a log beside the socket.
 */
record JudgeServer(Process process) implements AutoCloseable {
    private static final Duration TIMEOUT = Duration.ofSeconds(120);

    /** qemu-nbd serving the raw {@code image} as disk0 on {@code socket}, with {@code options}. */
    static JudgeServer qemuNbd(Path image, Path socket, String... options) throws IOException {
        return start(List.of(), socket, qemuNbdArgv(image.toString(), socket.toString(), options));
    }

    /**
     * {@code launcher} (a chroot, say, or nothing) running {@code argv}; returns once {@code socket}
     * (as this process sees it) exists.
     */
    static JudgeServer start(List<String> launcher, Path socket, List<String> argv) throws IOException {
        List<String> command = new ArrayList<>(launcher);
        command.addAll(argv);
        Path log = socket.resolveSibling(socket.getFileName() + ".log");
        Process process = new ProcessBuilder(command)
                .redirectErrorStream(true)
                .redirectOutput(log.toFile())
                .start();
        JudgeServer server = new JudgeServer(process);
        try {
            await("the socket of " + argv.getFirst())
                    .atMost(TIMEOUT)
                    .until(() -> Files.exists(socket) || !process.isAlive());
            if (!process.isAlive()) {
                throw new IllegalStateException(command + " ended: " + Files.readString(log));
            }
        } catch (RuntimeException e) {
            server.close();
            throw e;
        }
        return server;
    }

    /** qemu-nbd's command line for disk0 on a Unix socket, paths as the process sees them. */
    static List<String> qemuNbdArgv(String image, String socket, String... options) {
        List<String> argv = new ArrayList<>(List.of("qemu-nbd", "--persistent", "--format=raw", "--export-name=disk0"));
        argv.addAll(List.of(options));
        argv.addAll(List.of("--socket=" + socket, image));
        return argv;
    }

    @Override
    public void close() {
        process.destroy();
        try {
            process.waitFor();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
