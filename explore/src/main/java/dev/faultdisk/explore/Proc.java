package dev.faultdisk.explore;

import java.io.BufferedReader;
import java.io.File;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

/**
 * Runs host programs for exploration: with a deadline, in a session of their own (so a Ctrl-C
 * meant for faultdisk does not reach them before faultdisk has put things back in order), their
 * whole process tree killed when the deadline passes or faultdisk is stopped.
 */
public final class Proc {
    /** Most bytes of a program's output kept for the report. */
    static final int KEEP = 16 * 1024;

    /** The programs running now, so a stop can end them at once. */
    private static final Set<Process> RUNNING = ConcurrentHashMap.newKeySet();

    private Proc() {}

    /** Kills every program running now (a stop was asked); their callers see them fail. */
    static void killAll() {
        for (Process p : RUNNING) {
            ProcessTree.kill(p);
        }
    }

    /** How a program ended. */
    public record Result(int exit, String stdout, String stderr, boolean timedOut, Duration took) {
        public boolean ok() {
            return exit == 0 && !timedOut;
        }

        /** stderr, else stdout, trimmed and short: what to show. */
        public String message() {
            String s = (stderr.isBlank() ? stdout : stderr).strip();
            return s.length() > 2000 ? s.substring(s.length() - 2000) : s;
        }
    }

    /** A failure of a step of exploration, in one sentence: an I/O failure of a host program. */
    public static final class Failure extends IOException {
        private static final long serialVersionUID = 1L;

        Failure(String message) {
            super(message);
        }
    }

    /** Runs {@code command} to completion or until {@code timeout}. */
    public static Result run(Duration timeout, List<String> command) throws Failure {
        return run(timeout, command, Map.of(), null, null);
    }

    /** Runs {@code command}, failing with its message unless it exits 0 within {@code timeout}. */
    public static Result check(Duration timeout, String... command) throws Failure {
        Result r = run(timeout, List.of(command));
        if (!r.ok()) {
            throw new Failure(String.join(" ", command)
                    + (r.timedOut()
                            ? " did not finish within " + timeout.toSeconds() + " s"
                            : " failed (exit " + r.exit() + ")")
                    + (r.message().isEmpty() ? "" : ": " + r.message()));
        }
        return r;
    }

    /**
     * Runs {@code command} with extra {@code env}, in {@code dir} (null: here); each line of its
     * standard output goes to {@code lines} (null: kept in the result) as it comes.
     */
    static Result run(Duration timeout, List<String> command, Map<String, String> env, Path dir, Consumer<String> lines)
            throws Failure {
        List<String> cmd = new ArrayList<>();
        if (Files.isExecutable(Path.of("/usr/bin/setsid"))) {
            cmd.add("/usr/bin/setsid");
            cmd.add("-w");
        }
        cmd.addAll(command);
        long start = System.nanoTime();
        Process p;
        try {
            ProcessBuilder b =
                    new ProcessBuilder(cmd).redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")));
            b.environment().putAll(env);
            if (dir != null) {
                b.directory(dir.toFile());
            }
            p = b.start();
        } catch (IOException e) {
            throw new Failure("cannot run " + command.getFirst() + ": " + e.getMessage());
        }
        RUNNING.add(p);
        try {
            return await(p, timeout, command, lines, start);
        } finally {
            RUNNING.remove(p);
        }
    }

    private static Result await(Process p, Duration timeout, List<String> command, Consumer<String> lines, long start)
            throws Failure {
        CompletableFuture<String> out = CompletableFuture.supplyAsync(
                () -> lines == null ? keep(p.getInputStream()) : feed(p.getInputStream(), lines),
                Thread::startVirtualThread);
        CompletableFuture<String> err =
                CompletableFuture.supplyAsync(() -> keep(p.getErrorStream()), Thread::startVirtualThread);
        boolean done;
        try {
            done = p.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            ProcessTree.kill(p);
            Thread.currentThread().interrupt();
            throw new Failure("interrupted while running " + command.getFirst());
        }
        if (!done) {
            ProcessTree.kill(p);
        }
        int exit;
        try {
            exit = p.waitFor();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new Failure("interrupted while stopping " + command.getFirst());
        }
        return new Result(exit, out.join(), err.join(), !done, Duration.ofNanos(System.nanoTime() - start));
    }

    private static String keep(InputStream in) {
        try (in) {
            byte[] all = in.readAllBytes();
            int from = Math.max(0, all.length - KEEP);
            return new String(all, from, all.length - from, StandardCharsets.UTF_8);
        } catch (IOException e) {
            return "";
        }
    }

    private static String feed(InputStream in, Consumer<String> lines) {
        try (BufferedReader r = new BufferedReader(new InputStreamReader(in, StandardCharsets.UTF_8))) {
            for (String line; (line = r.readLine()) != null; ) {
                lines.accept(line);
            }
        } catch (IOException e) {
            // the program went away: its exit status tells
        }
        return "";
    }
}
