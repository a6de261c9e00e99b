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
        List<String> serve = new ArrayList<>(List.of("serve"));
        serve.addAll(List.of(args));
        return new ServeProcess(FaultdiskCli.start(serve.toArray(String[]::new)));
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
