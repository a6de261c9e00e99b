package dev.faultdisk.interop;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.faultdisk.client.FaultdiskClient;
import dev.faultdisk.explore.ExploreException;
import dev.faultdisk.explore.ExploreOptions;
import dev.faultdisk.explore.ExploreReport;
import dev.faultdisk.explore.Explorer;
import dev.faultdisk.explore.Verdict;
import dev.faultdisk.testkit.Tools;
import java.io.IOException;
import java.net.URISyntaxException;
import java.net.URL;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.stream.Stream;

/**
 * What the explore tests share: the demonstration scripts, options with short timeouts, a run that
 * must judge every state, leftovers checks.
 */
final class ExploreRuns {
    private ExploreRuns() {}

    /** Skips (fails under CI) unless everything explore needs is here. */
    static void requireAll(String... more) {
        FuseLoopDisk.requireAll();
        Tools.require("blockdev", "fsfreeze", "setsid", "sh");
        Tools.require(more);
    }

    /**
     * Explores with {@code options} and fails if the check could not judge a state (verdict
     * error): every demonstration's check must run on every state it is given.
     */
    static ExploreReport explore(FaultdiskClient fd, ExploreOptions.Builder options) throws ExploreException {
        ExploreReport r = Explorer.explore(fd, options.build());
        assertEquals(List.of(), r.withVerdict(Verdict.ERROR), "states the check could not judge");
        return r;
    }

    /** The path of demonstration script {@code name} (test resources, explore/). */
    static String script(String name) {
        URL url = ExploreRuns.class.getResource("/explore/" + name);
        if (url == null) {
            throw new IllegalStateException("no test resource explore/" + name);
        }
        try {
            return Path.of(url.toURI()).toString();
        } catch (URISyntaxException e) {
            throw new IllegalStateException(e);
        }
    }

    /** Options with the run's files under {@code dir}, short timeouts and a fixed seed. */
    static ExploreOptions.Builder options(String uri, Path dir, String workload, String check) {
        return ExploreOptions.builder("d", workload, check)
                .uri(uri)
                .runDir(dir.resolve("run"))
                .seed(13)
                .stateTimeout(Duration.ofSeconds(20))
                .workloadTimeout(Duration.ofSeconds(60))
                .minimize(1);
    }

    /**
     * A demonstration written as shell scripts {@code NAME-workload.sh} and {@code NAME-check.sh}
     * (and {@code NAME-setup.sh} if {@code setup}), each run with the environment {@code env}
     * ("K=V K=V ").
     */
    static ExploreOptions.Builder shell(String name, String env, boolean setup, String uri, Path dir) {
        ExploreOptions.Builder b = options(
                uri,
                dir,
                env + "sh " + script(name + "-workload.sh") + " \"$1\"",
                env + "sh " + script(name + "-check.sh") + " \"$1\" \"$2\"");
        return setup ? b.setup(env + "sh " + script(name + "-setup.sh") + " \"$1\"") : b;
    }

    /** The SQLite demonstration's commands for a journal mode and synchronous setting. */
    static ExploreOptions.Builder sqlite(String uri, Path dir, String journal, String sync, int rows) {
        String env = "JOURNAL=" + journal + " SYNC=" + sync + " ROWS=" + rows + " ";
        return options(
                        uri,
                        dir,
                        env + "python3 " + script("sqlite-workload.py") + " \"$1\"",
                        "sh " + script("sqlite-check.sh") + " \"$1\" \"$2\"")
                .setup(env + "python3 " + script("sqlite-setup.py") + " \"$1\"");
    }

    /** Deletes the base snapshots explore keeps (for --materialize), so another run may use the name. */
    static void forgetRuns(FaultdiskClient fd) {
        fd.querySnapshots("d").stream()
                .filter(s -> s.name().startsWith("explore-"))
                .forEach(s -> fd.snapshotDelete("d", s.name()));
    }

    /** Nothing of a run is left: no mount, no loop device and no nbdfuse on its files. */
    static void assertNothingLeft(Path runDir) throws IOException {
        String mounts = Files.readString(Path.of("/proc/self/mounts"));
        assertFalse(mounts.contains(runDir.toString()), "a mount under " + runDir + " is left:\n" + mounts);
        try (Stream<Path> loops = Files.list(Path.of("/sys/block"))) {
            for (Path l : loops.filter(p -> p.getFileName().toString().startsWith("loop"))
                    .toList()) {
                Path backing = l.resolve("loop/backing_file");
                if (Files.exists(backing)) {
                    String file = Files.readString(backing).strip();
                    assertFalse(file.startsWith(runDir.toString()), l.getFileName() + " still backs " + file);
                }
            }
        }
        List<String> nbdfuse = ProcessHandle.allProcesses()
                .map(p -> p.info().commandLine().orElse(""))
                .filter(c -> c.contains("nbdfuse") && c.contains(runDir.toString()))
                .toList();
        assertTrue(nbdfuse.isEmpty(), "nbdfuse still runs: " + nbdfuse);
    }
}
