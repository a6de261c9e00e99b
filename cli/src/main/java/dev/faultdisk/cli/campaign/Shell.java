package dev.faultdisk.cli.campaign;

import dev.faultdisk.explore.ProcessTree;
import java.io.File;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.TimeUnit;

/** Runs a campaign's shell commands with a bound; on timeout the command and its children are killed. */
final class Shell {
    private Shell() {}

    /** What a command did: exit status (-1 if killed on timeout) and its output. */
    record Result(int exit, boolean timedOut, String output) {
        boolean ok() {
            return exit == 0 && !timedOut;
        }

        /** The first word of the last non-empty line. */
        String lastWord() {
            String[] lines = output.strip().split("\n");
            String last = lines[lines.length - 1].strip();
            int sp = last.indexOf(' ');
            return sp < 0 ? last : last.substring(0, sp);
        }
    }

    /** Runs {@code command} under {@code sh -c}, stdout and stderr to {@code log} (also returned). */
    static Result run(String command, Duration timeout, Path log) throws IOException, InterruptedException {
        Process p = new ProcessBuilder("sh", "-c", command)
                .redirectErrorStream(true)
                .redirectOutput(log.toFile())
                .redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")))
                .start();
        boolean done;
        try {
            done = p.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            ProcessTree.kill(p);
            throw e;
        }
        if (!done) {
            ProcessTree.kill(p);
        }
        String out = Files.exists(log) ? Files.readString(log) : "";
        return new Result(done ? p.exitValue() : -1, !done, out);
    }
}
