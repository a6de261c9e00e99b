package dev.faultdisk.explore;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.Deque;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SortedSet;
import java.util.SplittableRandom;
import java.util.TreeSet;

/**
 * Chooses the crash states to check within a budget, deterministically from a seed. Per crash
 * point, in order of value: the durable state alone ("none": every pending change lost), every
 * pending change landed ("all"), then in turn an in-order prefix of the pending changes (halves
 * first, then quarters, ...), a torn change (the pending changes
 * before it landed, it landed in a random proper subset of its tear units, see {@link TearUnits}), and a seeded
 * random subset. The budget is spent
 * round-robin over the crash points, the first round in bisection order of the points (the end,
 * the start, the middle, ...) so a small budget still spans the run. Duplicates (the same disk at
 * the same crash point) are skipped. The plan runs in log order, so the materializer builds each
 * durable prefix once.
 */
final class StatePlanner {
    private static final int GIVE_UP = 32;

    private StatePlanner() {}

    static List<PlannedState> plan(
            List<CrashPoint> points, Map<Long, List<List<Integer>>> unitsOf, int budget, long seed) {
        SplittableRandom seeds = new SplittableRandom(seed);
        List<Source> sources = new ArrayList<>();
        for (CrashPoint p : points) {
            sources.add(new Source(p, unitsOf, seeds.split()));
        }
        List<Integer> order = spread(points.size());
        Set<String> seen = new HashSet<>();
        List<PlannedState> chosen = new ArrayList<>();
        boolean any = true;
        while (chosen.size() < budget && any) {
            any = false;
            for (int i : order) {
                if (chosen.size() >= budget) {
                    break;
                }
                Source s = sources.get(i);
                for (int tries = 0; tries < GIVE_UP; tries++) {
                    PlannedState st = s.next();
                    if (st == null) {
                        break;
                    }
                    any = true;
                    if (seen.add(st.key())) {
                        chosen.add(st);
                        break;
                    }
                }
            }
        }
        chosen.sort(Comparator.comparingLong(PlannedState::prefix)
                .thenComparingInt(PlannedState::point)
                .thenComparing(PlannedState::how));
        List<PlannedState> numbered = new ArrayList<>();
        for (PlannedState s : chosen) {
            numbered.add(s.withId(numbered.size()));
        }
        return numbered;
    }

    /** 0..n-1 with the last and first first, then midpoints of the gaps, breadth first. */
    static List<Integer> spread(int n) {
        List<Integer> out = new ArrayList<>();
        if (n == 0) {
            return out;
        }
        Set<Integer> taken = new HashSet<>();
        for (int i : new int[] {n - 1, 0}) {
            if (taken.add(i)) {
                out.add(i);
            }
        }
        Deque<int[]> gaps = new ArrayDeque<>();
        gaps.add(new int[] {0, n - 1});
        while (!gaps.isEmpty()) {
            int[] g = gaps.poll();
            if (g[1] - g[0] < 2) {
                continue;
            }
            int mid = (g[0] + g[1]) >>> 1;
            if (taken.add(mid)) {
                out.add(mid);
            }
            gaps.add(new int[] {g[0], mid});
            gaps.add(new int[] {mid, g[1]});
        }
        for (int i = 0; i < n; i++) {
            if (taken.add(i)) {
                out.add(i);
            }
        }
        return out;
    }

    /** The candidates of one crash point, best first; null when it has no more. */
    private static final class Source {
        private final CrashPoint point;
        private final Map<Long, List<List<Integer>>> unitsOf;
        private final SplittableRandom random;
        private final Deque<Integer> prefixes = new ArrayDeque<>();
        private final List<Long> tearable = new ArrayList<>();
        private int step;
        private int randomLeft;
        private int tornLeft;

        Source(CrashPoint point, Map<Long, List<List<Integer>>> unitsOf, SplittableRandom random) {
            this.point = point;
            this.unitsOf = unitsOf;
            this.random = random;
            int n = point.pending().size();
            for (int k : spread(n + 1)) {
                if (k > 0 && k < n) {
                    prefixes.add(k);
                }
            }
            for (long i : point.pending()) {
                if (unitsOf.get(i).size() > 1) {
                    tearable.add(i);
                }
            }
            randomLeft = n < 2 ? 0 : (int) Math.min(1L << Math.min(n, 20), 4096);
            tornLeft = tearable.isEmpty() ? 0 : 4096;
        }

        PlannedState next() {
            List<Long> pending = point.pending();
            while (true) {
                int s = step++;
                if (s == 0) {
                    return state("none", List.of(), Map.of());
                }
                if (s == 1) {
                    return state("all", pending, Map.of());
                }
                if (prefixes.isEmpty() && randomLeft == 0 && tornLeft == 0) {
                    return null;
                }
                switch (s % 3) {
                    case 2 -> {
                        if (!prefixes.isEmpty()) {
                            return state("prefix", pending.subList(0, prefixes.poll()), Map.of());
                        }
                    }
                    case 0 -> {
                        if (tornLeft > 0) {
                            tornLeft--;
                            long victim = tearable.get(random.nextInt(tearable.size()));
                            List<List<Integer>> units = unitsOf.get(victim);
                            List<Integer> kept = new ArrayList<>();
                            int keptUnits = 0;
                            while (keptUnits == 0 || keptUnits == units.size()) {
                                kept.clear();
                                keptUnits = 0;
                                for (List<Integer> u : units) {
                                    if (random.nextBoolean()) {
                                        kept.addAll(u);
                                        keptUnits++;
                                    }
                                }
                            }
                            List<Long> landed = new ArrayList<>(pending.subList(0, pending.indexOf(victim) + 1));
                            return state("torn", landed, Map.of(victim, List.copyOf(kept)));
                        }
                    }
                    default -> {
                        if (randomLeft > 0) {
                            randomLeft--;
                            List<Long> subset = new ArrayList<>();
                            for (long i : pending) {
                                if (random.nextBoolean()) {
                                    subset.add(i);
                                }
                            }
                            return state("random", subset, Map.of());
                        }
                    }
                }
            }
        }

        private PlannedState state(String how, List<Long> landed, Map<Long, List<Integer>> torn) {
            SortedSet<Long> applied = new TreeSet<>(point.fua());
            applied.addAll(landed);
            return new PlannedState(-1, point.number(), how, point.prefix(), applied, new LinkedHashMap<>(torn));
        }
    }
}
