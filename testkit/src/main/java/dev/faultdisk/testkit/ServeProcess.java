package dev.faultdisk.testkit;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Assertions;

/**
 * {@code faultdisk serve} as a real process, for tests of what only a process has: its banner,
 * signals, exit codes. Starting returns once the banner is printed, when it listens; the
 * addresses come from the banner. Tests that need only a server use the {@code @Faultdisk}
 * extension instead.
 */
public final class ServeProcess implements AutoCloseable {
    private static final Pattern LISTENING = Pattern.compile("(NBD|QMP control) on 127\\.0\\.0\\.1:(\\d+)");
    private final Process process;
    private final BufferedReader out;
    private final List<String> banner = new ArrayList<>();
    private String nbdPort;
    private String qmpPort;

    private ServeProcess(Process process) throws IOException {
        this.process = process;
        this.out = new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8));
        for (String line; (line = out.readLine()) != null; ) {
            banner.add(line);
            Matcher m = LISTENING.matcher(line);
            if (m.find()) {
                if (m.group(1).equals("NBD")) {
                    nbdPort = m.group(2);
                } else {
                    qmpPort = m.group(2);
                }
            }
            if (line.startsWith("Stop with")) {
                return;
            }
        }
        String err = new String(process.getErrorStream().readAllBytes(), StandardCharsets.UTF_8);
        process.destroyForcibly();
        Assertions.fail("faultdisk serve printed no banner: " + banner + "\nstderr:\n" + err);
    }

    /** Starts {@code faultdisk serve ARGS...} and waits for its banner. */
    public static ServeProcess start(String... args) throws IOException {
        return new ServeProcess(FaultdiskCli.start(serve(args)));
    }

    /**
     * Starts {@code faultdisk serve ARGS...} in a JVM with {@code jvmOptions} (e.g. {@code -Xmx64m});
     * its log (stderr) goes to {@code log}, so that a flood of warnings never blocks it.
     */
    public static ServeProcess startWithJvm(List<String> jvmOptions, java.nio.file.Path log, String... args)
            throws IOException {
        return startLogging(FaultdiskCli.command(jvmOptions, serve(args)), log);
    }

    /**
     * Starts {@code faultdisk serve ARGS...} through {@code wrapper}, a command that runs the rest
     * of its line (e.g. {@code nice -n 5} or {@code taskset -c 0}); its log (stderr) goes to
     * {@code log}.
     */
    public static ServeProcess startUnder(List<String> wrapper, java.nio.file.Path log, String... args)
            throws IOException {
        List<String> command = new ArrayList<>(wrapper);
        command.addAll(FaultdiskCli.command(serve(args)));
        return startLogging(command, log);
    }

    /**
     * Starts a {@code faultdisk serve} that {@code builder} describes (another launcher, say the
     * repository's {@code ./faultdisk}, with its environment); its log (stderr) goes to {@code log}.
     */
    public static ServeProcess startProcess(ProcessBuilder builder, java.nio.file.Path log) throws IOException {
        return new ServeProcess(builder.redirectError(log.toFile()).start());
    }

    /** {@code serve ARGS...}: the subcommand's arguments. */
    private static String[] serve(String... args) {
        List<String> serve = new ArrayList<>(List.of("serve"));
        serve.addAll(List.of(args));
        return serve.toArray(String[]::new);
    }

    /** Starts {@code command} with its stderr to {@code log} and waits for the banner. */
    private static ServeProcess startLogging(List<String> command, java.nio.file.Path log) throws IOException {
        return new ServeProcess(
                new ProcessBuilder(command).redirectError(log.toFile()).start());
    }

    /** The process's resident memory now, in KiB ({@code VmRSS} of /proc/PID/status). */
    public long rssKib() {
        return status("VmRSS");
    }

    /**
     * The process's live heap in KiB: its heap in use right after a full collection it is asked
     * for ({@code jcmd PID GC.run}, then {@code GC.heap_info}). What it holds, not its garbage.
     */
    public long liveHeapKib() {
        String jcmd = java.nio.file.Path.of(System.getProperty("java.home"), "bin", "jcmd")
                .toString();
        String pid = Long.toString(pid());
        Command.run(Duration.ofSeconds(60), jcmd, pid, "GC.run").assertOk("jcmd GC.run");
        String info = Command.run(Duration.ofSeconds(60), jcmd, pid, "GC.heap_info")
                .assertOk("jcmd GC.heap_info")
                .stdout();
        Matcher m = Pattern.compile("used (\\d+)K").matcher(info);
        if (!m.find()) {
            throw new IllegalStateException("no heap use in: " + info);
        }
        return Long.parseLong(m.group(1));
    }

    /** The process's threads now ({@code Threads} of /proc/PID/status). */
    public long threads() {
        return status("Threads");
    }

    private long status(String field) {
        try {
            for (String line :
                    java.nio.file.Files.readAllLines(java.nio.file.Path.of("/proc", Long.toString(pid()), "status"))) {
                if (line.startsWith(field + ":")) {
                    return Long.parseLong(
                            line.substring(field.length() + 1).replace("kB", "").strip());
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        throw new IllegalStateException("no " + field + " in /proc/" + pid() + "/status");
    }

    /** Whether the process is still running. */
    public boolean isAlive() {
        return process.isAlive();
    }

    /** The banner's lines, up to and including "Stop with Ctrl-C.". */
    public List<String> banner() {
        return List.copyOf(banner);
    }

    /** {@code nbd://127.0.0.1:PORT/NAME} from the banner's TCP NBD address. */
    public String uri(String export) {
        return "nbd://127.0.0.1:" + Objects.requireNonNull(nbdPort, () -> "no TCP NBD address in " + banner) + "/"
                + export;
    }

    /** {@code 127.0.0.1:PORT} from the banner's TCP QMP address. */
    public String qmp() {
        return "127.0.0.1:" + Objects.requireNonNull(qmpPort, () -> "no TCP QMP address in " + banner);
    }

    public long pid() {
        return process.pid();
    }

    /**
     * Sends SIGTERM through kill(1) (Process.destroy would also close this end of its output),
     * waits for the exit, and returns what it printed after the banner.
     */
    public String terminate(Duration timeout) throws InterruptedException {
        Command.run(Duration.ofSeconds(5), "kill", "-TERM", Long.toString(process.pid()))
                .assertOk("kill");
        Assertions.assertTrue(
                process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS),
                "faultdisk serve exits within " + timeout + " after SIGTERM");
        StringBuilder rest = new StringBuilder();
        try {
            for (String line; (line = out.readLine()) != null; ) {
                rest.append(line).append('\n');
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return rest.toString();
    }

    public int exitValue() {
        return process.exitValue();
    }

    @Override
    public void close() {
        process.destroyForcibly();
    }
}
