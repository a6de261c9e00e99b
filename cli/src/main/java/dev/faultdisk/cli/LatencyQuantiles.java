package dev.faultdisk.cli;

import java.util.List;

/**
 * Quantiles of a latency histogram (query-latency's bucket counts), interpolated inside the
 * bucket as Prometheus' histogram_quantile does, so that top and a Prometheus query agree.
 */
public final class LatencyQuantiles {
    private LatencyQuantiles() {}

    /**
     * The {@code q}-quantile in seconds, or NaN with no observations.
     *
     * @param bounds finite upper bounds, ascending
     * @param counts count per bucket (not cumulative), one more than the bounds (the last unbounded)
     */
    public static double quantile(double q, List<Double> bounds, long[] counts) {
        long total = 0;
        for (long c : counts) {
            total += c;
        }
        if (total == 0) {
            return Double.NaN;
        }
        double rank = q * total;
        long seen = 0;
        for (int i = 0; i < counts.length; i++) {
            if (counts[i] > 0 && seen + counts[i] >= rank) {
                if (i >= bounds.size()) {
                    return bounds.getLast(); // the unbounded bucket: its lower bound, as Prometheus says
                }
                double lower = i == 0 ? 0 : bounds.get(i - 1);
                return lower + (bounds.get(i) - lower) * ((rank - seen) / counts[i]);
            }
            seen += counts[i];
        }
        return bounds.getLast();
    }
}
