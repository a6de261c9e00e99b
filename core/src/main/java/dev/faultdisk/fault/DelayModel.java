package dev.faultdisk.fault;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * How long a delay rule delays one request, in nanoseconds, from the firing's random draws and
 * the time since the rule was added. Heavy-tailed models are given by their median or minimum and
 * their 99th percentile, the way latency is usually specified ("p99 of 200 ms").
 */
sealed interface DelayModel {
    /** z such that P(Z <= z) = 0.99 for a standard normal Z. */
    double Z99 = 2.3263478740408408;

    List<String> NAMES = List.of("fixed", "uniform", "lognormal", "pareto", "ramp", "stall");

    long sample(Firing firing);

    Map<String, Object> describe();

    static DelayModel parse(RuleParams p) {
        String name = p.choice("distribution", "fixed", NAMES);
        return switch (name) {
            case "fixed" -> {
                long ms = p.millis("ms", -1);
                if (ms < 0) {
                    throw p.error("ms", "is missing (the delay in milliseconds)");
                }
                long jitter = p.millis("jitter-ms", 0);
                if (jitter > ms) {
                    throw p.error("jitter-ms", "must not exceed ms (a delay cannot be negative)");
                }
                yield new Fixed(ms, jitter);
            }
            case "uniform" -> {
                long min = required(p, "min-ms");
                long max = required(p, "max-ms");
                if (max < min) {
                    throw p.error("max-ms", "must not be less than min-ms");
                }
                yield new Uniform(min, max);
            }
            case "lognormal" -> {
                long median = required(p, "median-ms");
                long p99 = required(p, "p99-ms");
                if (median <= 0 || p99 <= median) {
                    throw p.error("p99-ms", "must be greater than median-ms, and median-ms positive");
                }
                yield new LogNormal(median, p99, p.millis("max-ms", 60_000_000_000L));
            }
            case "pareto" -> {
                long min = required(p, "min-ms");
                long p99 = required(p, "p99-ms");
                if (min <= 0 || p99 <= min) {
                    throw p.error("p99-ms", "must be greater than min-ms, and min-ms positive");
                }
                yield new Pareto(min, p99, p.millis("max-ms", 60_000_000_000L));
            }
            case "ramp" -> {
                long from = p.millis("from-ms", 0);
                long to = required(p, "to-ms");
                long over = required(p, "over-ms");
                if (over <= 0) {
                    throw p.error("over-ms", "must be positive");
                }
                yield new Ramp(from, to, over);
            }
            case "stall" -> {
                long period = required(p, "period-ms");
                long stall = required(p, "stall-ms");
                if (stall <= 0 || stall >= period) {
                    throw p.error("stall-ms", "must be positive and less than period-ms");
                }
                yield new Stall(period, stall);
            }
            default -> throw new IllegalStateException(name);
        };
    }

    private static long required(RuleParams p, String key) {
        if (!p.has(key)) {
            throw p.error(key, "is missing");
        }
        return p.millis(key, 0);
    }

    private static Map<String, Object> map(String distribution, Object... kv) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("distribution", distribution);
        for (int i = 0; i < kv.length; i += 2) {
            m.put((String) kv[i], ((Long) kv[i + 1]) / 1e6);
        }
        return m;
    }

    /** {@code ms}, or uniformly within {@code ms ± jitter-ms}. */
    record Fixed(long nanos, long jitter) implements DelayModel {
        @Override
        public long sample(Firing f) {
            return jitter == 0 ? nanos : nanos - jitter + f.random().nextLong(2 * jitter + 1);
        }

        @Override
        public Map<String, Object> describe() {
            return jitter == 0 ? map("fixed", "ms", nanos) : map("fixed", "ms", nanos, "jitter-ms", jitter);
        }
    }

    /** Uniformly within [min-ms, max-ms]. */
    record Uniform(long min, long max) implements DelayModel {
        @Override
        public long sample(Firing f) {
            return min + f.random().nextLong(max - min + 1);
        }

        @Override
        public Map<String, Object> describe() {
            return map("uniform", "min-ms", min, "max-ms", max);
        }
    }

    /** Log-normal with the given median and 99th percentile, capped at max-ms. */
    record LogNormal(long median, long p99, long max) implements DelayModel {
        @Override
        public long sample(Firing f) {
            double mu = Math.log((double) median);
            double sigma = (Math.log((double) p99) - mu) / Z99;
            return Math.min(max, Math.round(Math.exp(mu + sigma * f.random().nextGaussian())));
        }

        @Override
        public Map<String, Object> describe() {
            return map("lognormal", "median-ms", median, "p99-ms", p99, "max-ms", max);
        }
    }

    /** Pareto with scale min-ms and the given 99th percentile, capped at max-ms. */
    record Pareto(long min, long p99, long max) implements DelayModel {
        @Override
        public long sample(Firing f) {
            // P(X > x) = (min / x)^alpha; P(X > p99) = 0.01 gives alpha.
            double alpha = Math.log(100) / Math.log((double) p99 / min);
            double u = 1.0 - f.random().nextDouble(); // (0, 1]
            return Math.min(max, Math.round(min / Math.pow(u, 1.0 / alpha)));
        }

        @Override
        public Map<String, Object> describe() {
            return map("pareto", "min-ms", min, "p99-ms", p99, "max-ms", max);
        }
    }

    /** From from-ms to to-ms linearly over over-ms since the rule was added, then to-ms. */
    record Ramp(long from, long to, long over) implements DelayModel {
        @Override
        public long sample(Firing f) {
            double progress = Math.min(1.0, (double) Math.max(0, f.elapsed()) / over);
            return Math.round(from + (to - from) * progress);
        }

        @Override
        public Map<String, Object> describe() {
            return map("ramp", "from-ms", from, "to-ms", to, "over-ms", over);
        }
    }

    /**
     * Every period-ms (counted from when the rule was added) the disk stalls for stall-ms: a
     * request arriving during a stall waits until it ends, others pass undelayed.
     */
    record Stall(long period, long stall) implements DelayModel {
        @Override
        public long sample(Firing f) {
            long into = Math.floorMod(f.elapsed(), period);
            return into < stall ? stall - into : 0;
        }

        @Override
        public Map<String, Object> describe() {
            return map("stall", "period-ms", period, "stall-ms", stall);
        }
    }
}
