package dev.faultdisk.cli.campaign;

import dev.faultdisk.explore.ProcessTree;
import java.io.File;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.TimeUnit;

/**
 * One node's server process, started with the campaign's start command. It runs until stopped:
 * exiting earlier is what a crash looks like; not exiting within the stop timeout is a hang, and
 * the process (with everything it started) is killed.
 */
final class NodeProcess {
    private final Process process;
    private volatile boolean stopping;

    /** How a node ended. */
    record End(boolean crashed, Integer exit, boolean hung) {
        /** This end, then {@code later} (a node stopped twice in a run with a restart). */
        End then(End later) {
            return new End(crashed || later.crashed, crashed ? exit : later.exit, hung || later.hung);
        }
    }

    private NodeProcess(Process process) {
        this.process = process;
    }

    static NodeProcess start(String command, Path log) throws IOException {
        Process p = new ProcessBuilder("sh", "-c", "exec " + command)
                .redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()))
                .redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")))
                .start();
        return new NodeProcess(p);
    }

    boolean alive() {
        return process.isAlive();
    }

    long pid() {
        return process.pid();
    }

    /**
     * Stops the node: the stop command if there is one, else SIGTERM; SIGKILL to the process and
     * its children after {@code timeout}.
     */
    End stop(String stopCommand, Duration timeout, Path log) throws IOException, InterruptedException {
        boolean crashed = !process.isAlive() && !stopping;
        stopping = true;
        if (process.isAlive()) {
            if (stopCommand.isEmpty()) {
                process.descendants().forEach(ProcessHandle::destroy);
                process.destroy();
            } else {
                Shell.run(stopCommand, timeout, log);
            }
        }
        boolean hung = false;
        if (!process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
            hung = true;
            ProcessTree.kill(process);
        }
        return new End(crashed, process.isAlive() ? null : process.exitValue(), hung);
    }

    /** Kills at once (Ctrl-C, cleanup). */
    void kill() {
        stopping = true;
        ProcessTree.kill(process);
    }
}
