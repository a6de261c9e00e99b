package dev.faultdisk.explore;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;

/**
 * The outcome of an exploration, as written to report.json and report.html in its run directory.
 *
 * @param run the run's name (its directory's name)
 * @param runDir where the history, report and logs are
 * @param export the export explored
 * @param history the history file
 * @param acks keys the workload acknowledged
 * @param points the crash points of the run
 * @param planned crash states planned
 * @param results each state checked, in order
 * @param minimized the failing states cut down to minimal reproducers
 * @param interrupted true if the run was stopped early (Ctrl-C); what was found so far is kept
 * @param seconds how long the exploration of states took (recording excluded)
 * @param firstViolationSeconds seconds from the start of exploration to the first violation, or -1
 * @param timeline the history's entries in brief, for the report's timeline
 */
public record ExploreReport(
        String run,
        Path runDir,
        String export,
        Path history,
        List<String> acks,
        List<CrashPoint> points,
        int planned,
        List<StateResult> results,
        List<Minimized> minimized,
        boolean interrupted,
        double seconds,
        double firstViolationSeconds,
        List<Map<String, Object>> timeline) {

    /** States with a violation (any kind). */
    public List<StateResult> violations() {
        return results.stream().filter(r -> r.verdict().isViolation()).toList();
    }

    /** States whose verdict is {@code verdict}. */
    public List<StateResult> withVerdict(Verdict verdict) {
        return results.stream().filter(r -> r.verdict() == verdict).toList();
    }

    /** Crash states checked per minute. */
    public double statesPerMinute() {
        return seconds <= 0 ? 0 : results.size() * 60.0 / seconds;
    }

    public Path json() {
        return runDir.resolve("report.json");
    }

    public Path html() {
        return runDir.resolve("report.html");
    }
}
