package dev.faultdisk.explore;

import java.io.PrintStream;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * What {@code faultdisk explore} tells its user while it runs and when it ends: the progress line
 * (states checked of planned, violations, states per minute: one line rewritten on a terminal, a
 * line every 5 s elsewhere), then the summary.
 */
final class ExploreProgress {
    private final PrintStream out;
    private final int planned;
    private final long start = System.nanoTime();

    @SuppressWarnings("SystemConsoleNull") // it is null without a terminal in surefire's forked JVMs
    private final boolean tty = System.console() != null && System.console().isTerminal();

    private long lastPrinted;

    ExploreProgress(PrintStream out, int planned) {
        this.out = out;
        this.planned = planned;
    }

    void update(List<StateResult> results) {
        if (out == null) {
            return;
        }
        long now = System.nanoTime();
        if (!tty && now - lastPrinted < 5_000_000_000L && results.size() < planned) {
            return;
        }
        lastPrinted = now;
        out.print((tty ? "\r" : "") + line(results) + (tty ? "" : "\n"));
        out.flush();
    }

    void finish() {
        if (out != null && tty) {
            out.println();
        }
    }

    private String line(List<StateResult> results) {
        long violations =
                results.stream().filter(r -> r.verdict().isViolation()).count();
        double minutes = (System.nanoTime() - start) / 60e9;
        return String.format(
                "faultdisk explore: %d/%d states checked, %d violations, %.0f states/min",
                results.size(), planned, violations, minutes <= 0 ? 0 : results.size() / minutes);
    }

    /** The summary on {@code out} (null: none): states, verdicts, speed, first violation, where the report is. */
    static void summarize(PrintStream out, ExploreReport r) {
        if (out == null || r.points().isEmpty()) {
            return;
        }
        Map<String, Long> verdicts = new TreeMap<>();
        r.results().forEach(s -> verdicts.merge(s.verdict().wireName(), 1L, Long::sum));
        out.println(String.format(
                "faultdisk explore: %d crash states checked of %d planned (%d crash points, %d acks), %.0f states/min%s",
                r.results().size(),
                r.planned(),
                r.points().size(),
                r.acks().size(),
                r.statesPerMinute(),
                r.interrupted() ? ", INTERRUPTED" : ""));
        out.println("  verdicts: " + verdicts);
        if (!r.violations().isEmpty()) {
            out.println(String.format(
                    "  first violation %.1f s into exploration; %d minimized",
                    r.firstViolationSeconds(), r.minimized().size()));
        }
        out.println("  report: " + r.html() + " (and report.json)");
        out.flush();
    }
}
