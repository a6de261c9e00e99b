package dev.faultdisk.junit;

import dev.faultdisk.client.FaultdiskClient;
import dev.faultdisk.explore.ExploreException;
import dev.faultdisk.explore.ExploreOptions;
import dev.faultdisk.explore.ExploreReport;
import dev.faultdisk.explore.Explorer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.function.UnaryOperator;

/**
 * Crash-state exploration from a test (docs/EXPLORE.md): a parameter of a {@link Faultdisk} test
 * that runs what {@code faultdisk explore} runs on one of the test's exports and returns the
 * report. It knows the test's server: {@link #options} fills in the export's NBD URI and a run
 * directory of its own under {@code target/faultdisk-explore/} (the report's JSON and HTML stay
 * there after the test). The test must run as root with /dev/fuse and the host tools; what is
 * missing is said by an {@link ExploreException}.
 *
 * <pre>{@code
 * @Faultdisk(exports = "d=memory:64M")
 * class MyCrashTest {
 *     @Test
 *     void survivesPowerLoss(CrashExplorer explorer) throws Exception {
 *         ExploreReport r = explorer.explore(explorer.options("d", "./workload.sh \"$1\"", "./check.sh \"$1\" \"$2\"")
 *                 .maxStates(100));
 *         assertEquals(List.of(), r.violations());
 *     }
 * }
 * }</pre>
 */
public final class CrashExplorer {
    private final FaultdiskClient client;
    private final UnaryOperator<String> uriOf;
    private final Path runs;
    private final String name;

    CrashExplorer(FaultdiskClient client, UnaryOperator<String> uriOf, Path runs, String name) {
        this.client = client;
        this.uriOf = uriOf;
        this.runs = runs;
        this.name = name;
    }

    /**
     * Options for exploring {@code export} of this test's server with {@code workload}, judged by
     * {@code check}: the export's URI and a fresh run directory are set; everything else is
     * {@link ExploreOptions.Builder}'s default until changed.
     */
    public ExploreOptions.Builder options(String export, String workload, String check) {
        return ExploreOptions.builder(export, workload, check)
                .uri(uriOf.apply(export))
                .runDir(freshRunDir());
    }

    /** Runs the exploration and returns its report (also written to its run directory). */
    public ExploreReport explore(ExploreOptions.Builder options) throws ExploreException {
        return explore(options.build());
    }

    /** Runs the exploration and returns its report (also written to its run directory). */
    public ExploreReport explore(ExploreOptions options) throws ExploreException {
        return Explorer.explore(client, options);
    }

    /** The client of the test's server, the one explorations go through. */
    public FaultdiskClient client() {
        return client;
    }

    /**
     * The next unused directory TEST-N: each run's name (its directory's) also names its base
     * snapshot on the export, so two runs of a test must not share one.
     */
    private synchronized Path freshRunDir() {
        for (int n = 1; ; n++) {
            Path dir = runs.resolve(name + "-" + n);
            if (!Files.exists(dir)) {
                return dir;
            }
        }
    }
}
