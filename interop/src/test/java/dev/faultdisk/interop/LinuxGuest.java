package dev.faultdisk.interop;

import dev.faultdisk.testkit.Command;
import dev.faultdisk.testkit.CommandResult;
import dev.faultdisk.testkit.Tools;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/**
 * A Linux guest under QEMU with the kernel's own NBD client, for clients this host's kernel cannot
 * run (it has no nbd module): scripts/guest/build.sh makes it from the distribution's kernel and
 * busybox, scripts/guest/run.sh boots it with a job. The guest's console is read line by line, so
 * a test can wait for a line the job prints and answer on the console.
 */
final class LinuxGuest implements AutoCloseable {
    private static final Path ROOT = Path.of("..").toAbsolutePath().normalize();
    private static final Path DIR = ROOT.resolve("target/guest");
    private static final String EXIT = "faultdisk-guest: exit ";

    private final Process process;
    private final BlockingQueue<String> lines = new LinkedBlockingQueue<>();
    private final List<String> console = new ArrayList<>();
    private final Thread reader;

    private LinuxGuest(Process process) {
        this.process = process;
        this.reader = Thread.ofPlatform().daemon().name("guest-console").start(this::readConsole);
    }

    /** build.sh's result, asked once per JVM: its check of the package lists alone takes a second. */
    private static CommandResult built;

    /** Builds the guest once (cached in target/guest); skips, or under CI fails, when it cannot. */
    static synchronized void require() {
        Tools.require("qemu-system-x86_64", "nbd-client", "apt-get", "dpkg-deb", "depmod");
        if (built == null) {
            built = Command.run(
                    Duration.ofMinutes(5),
                    ROOT.resolve("scripts/guest/build.sh").toString(),
                    DIR.toString());
        }
        Tools.requireThat(
                built.exit() == 0,
                "scripts/guest/build.sh could not make the guest (it fetches Debian's kernel with apt-get download): "
                        + built.stderr().strip());
    }

    /** Boots the guest with {@code job} (busybox sh -e) and {@code files} under /files. */
    static LinuxGuest start(Path work, String job, Path... files) throws IOException {
        return start(work, job, List.of(files), List.of());
    }

    /** As {@link #start(Path, String, Path...)}, with {@code qemuArgs} added to QEMU's (drives, say). */
    static LinuxGuest start(Path work, String job, List<Path> files, List<String> qemuArgs) throws IOException {
        Path script = work.resolve("job.sh");
        Files.writeString(script, job);
        List<String> command = new ArrayList<>(
                List.of(ROOT.resolve("scripts/guest/run.sh").toString(), DIR.toString(), script.toString()));
        for (Path f : files) {
            command.add("--file");
            command.add(f.toString());
        }
        command.addAll(qemuArgs);
        Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
        return new LinuxGuest(p);
    }

    private void readConsole() {
        try (BufferedReader r =
                new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8))) {
            for (String line; (line = r.readLine()) != null; ) {
                String l = line.replace("\r", "");
                System.out.println("[guest] " + l);
                synchronized (console) {
                    console.add(l);
                }
                lines.add(l);
            }
        } catch (IOException e) {
            lines.add(EXIT + "console lost: " + e.getMessage());
        }
    }

    /** Waits for a console line that starts with {@code prefix} and returns it. */
    String awaitLine(String prefix, Duration timeout) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (true) {
            String line = lines.poll(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
            if (line == null) {
                throw new AssertionError(
                        "no guest line starting '" + prefix + "' within " + timeout + "; console:\n" + consoleText());
            }
            if (line.startsWith(prefix)) {
                return line;
            }
            if (line.startsWith(EXIT)) {
                throw new AssertionError("the guest ended before '" + prefix + "'; console:\n" + consoleText());
            }
        }
    }

    /** Types {@code line} on the guest's console (what the job reads from its standard input). */
    void send(String line) throws IOException {
        OutputStream in = process.getOutputStream();
        in.write((line + "\n").getBytes(StandardCharsets.UTF_8));
        in.flush();
    }

    /** Waits for QEMU to end and returns run.sh's status: the job's, or 125 if it never finished. */
    int awaitExit(Duration timeout) throws InterruptedException {
        if (!process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
            throw new AssertionError("the guest is still running after " + timeout + "; console:\n" + consoleText());
        }
        reader.join(5_000);
        return process.exitValue();
    }

    String consoleText() {
        synchronized (console) {
            return String.join("\n", console);
        }
    }

    @Override
    public void close() {
        process.descendants().forEach(ProcessHandle::destroyForcibly);
        process.destroyForcibly();
    }
}
