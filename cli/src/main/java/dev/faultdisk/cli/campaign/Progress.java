package dev.faultdisk.cli.campaign;

import java.io.PrintStream;
import java.time.Duration;
import java.time.Instant;
import java.util.EnumMap;
import java.util.Map;

/** The progress line: runs done, outcomes so far, runs per minute and the time left. */
final class Progress {
    private final PrintStream out;
    private final int total;
    private final Instant start;
    private final Map<Outcome, Integer> counts = new EnumMap<>(Outcome.class);
    private int done;
    private int ranNow;

    Progress(PrintStream out, int total, Instant start) {
        this.out = out;
        this.total = total;
        this.start = start;
    }

    synchronized void skipped(Outcome o) {
        done++;
        counts.merge(o, 1, Integer::sum);
    }

    synchronized void finished(Outcome o) {
        done++;
        ranNow++;
        counts.merge(o, 1, Integer::sum);
        out.println(line());
    }

    synchronized String line() {
        double minutes = Math.max(1e-9, Duration.between(start, Instant.now()).toMillis() / 60000.0);
        double perMinute = ranNow / minutes;
        StringBuilder b = new StringBuilder();
        b.append(String.format(java.util.Locale.ROOT, "[%d/%d] %.1f runs/min", done, total, perMinute));
        counts.forEach((o, n) -> b.append(", ").append(o.wireName()).append(' ').append(n));
        if (perMinute > 0) {
            long left = (long) ((total - done) / perMinute * 60);
            b.append(String.format(java.util.Locale.ROOT, ", %dm%02ds left", left / 60, left % 60));
        }
        return b.toString();
    }

    synchronized void end() {
        out.println(line());
    }
}
