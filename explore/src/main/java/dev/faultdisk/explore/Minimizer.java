package dev.faultdisk.explore;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SortedSet;
import java.util.TreeSet;

/**
 * Delta debugging (Zeller and Hildebrandt's ddmin) over what a failing crash state lost: its
 * dropped pending writes and the lost tear units of its torn write. A test builds the state in which
 * only a subset is lost (every other pending write lands) and checks it; the result is a subset
 * that still fails the same way and from which no single element can be taken (1-minimal), unless
 * the test budget runs out first.
 */
final class Minimizer {
    /** One lost thing: a whole write ({@code unit} -1) or one tear unit of a torn write. */
    record Loss(long entry, int unit) {}

    /** Checks a state: true if it fails the way being minimized. */
    @FunctionalInterface
    interface Test {
        boolean fails(PlannedState state) throws ExploreException;
    }

    private final CrashPoint point;
    private final Map<Long, List<List<Integer>>> unitsOf;
    private final Test test;
    private final int budget;
    private final Map<List<Loss>, Boolean> cache = new HashMap<>();
    private int tests;

    Minimizer(CrashPoint point, Map<Long, List<List<Integer>>> unitsOf, Test test, int budget) {
        this.point = point;
        this.unitsOf = unitsOf;
        this.test = test;
        this.budget = budget;
    }

    /** What {@code state} lost, in log order. */
    static List<Loss> losses(CrashPoint point, PlannedState state, Map<Long, List<List<Integer>>> unitsOf) {
        List<Loss> out = new ArrayList<>();
        for (long i : point.pending()) {
            if (!state.applied().contains(i)) {
                out.add(new Loss(i, -1));
            } else if (state.torn().containsKey(i)) {
                List<Integer> kept = state.torn().get(i);
                List<List<Integer>> units = unitsOf.get(i);
                for (int u = 0; u < units.size(); u++) {
                    if (!kept.containsAll(units.get(u))) {
                        out.add(new Loss(i, u));
                    }
                }
            }
        }
        return out;
    }

    /** The state at this crash point that loses exactly {@code lost}. */
    PlannedState stateLosing(List<Loss> lost, int id) {
        SortedSet<Long> applied = new TreeSet<>(point.fua());
        Map<Long, List<Integer>> dropUnits = new LinkedHashMap<>();
        List<Long> whole = new ArrayList<>();
        for (Loss l : lost) {
            if (l.unit() < 0) {
                whole.add(l.entry());
            } else {
                dropUnits.computeIfAbsent(l.entry(), k -> new ArrayList<>()).add(l.unit());
            }
        }
        Map<Long, List<Integer>> torn = new LinkedHashMap<>();
        for (long i : point.pending()) {
            if (whole.contains(i)) {
                continue;
            }
            List<Integer> drop = dropUnits.get(i);
            if (drop == null) {
                applied.add(i);
                continue;
            }
            List<Integer> kept = new ArrayList<>();
            List<List<Integer>> units = unitsOf.get(i);
            for (int u = 0; u < units.size(); u++) {
                if (!drop.contains(u)) {
                    kept.addAll(units.get(u));
                }
            }
            if (!kept.isEmpty()) {
                applied.add(i);
                torn.put(i, kept);
            }
        }
        return new PlannedState(id, point.number(), "minimize", point.prefix(), applied, torn);
    }

    int tests() {
        return tests;
    }

    /** True if the budget ran out. */
    boolean exhausted() {
        return tests >= budget;
    }

    private boolean fails(List<Loss> lost) throws ExploreException {
        Boolean known = cache.get(lost);
        if (known != null) {
            return known;
        }
        if (tests >= budget) {
            return false; // out of budget: treated as passing, so the search stops shrinking
        }
        tests++;
        boolean f = test.fails(stateLosing(lost, -1));
        cache.put(List.copyOf(lost), f);
        return f;
    }

    /** ddmin: a 1-minimal failing subset of {@code lost} (which must fail). */
    List<Loss> minimize(List<Loss> lost) throws ExploreException {
        cache.put(List.copyOf(lost), true);
        if (fails(List.of())) {
            return List.of(); // fails even with every pending write landed
        }
        List<Loss> c = new ArrayList<>(lost);
        int n = 2;
        while (c.size() >= 2) {
            List<List<Loss>> parts = split(c, n);
            boolean reduced = false;
            for (List<Loss> part : parts) {
                if (fails(part)) {
                    c = new ArrayList<>(part);
                    n = 2;
                    reduced = true;
                    break;
                }
            }
            if (!reduced && n > 2) {
                for (List<Loss> part : parts) {
                    List<Loss> rest = new ArrayList<>(c);
                    rest.removeAll(part);
                    if (fails(rest)) {
                        c = rest;
                        n = Math.max(n - 1, 2);
                        reduced = true;
                        break;
                    }
                }
            }
            if (!reduced) {
                if (n >= c.size() || exhausted()) {
                    break;
                }
                n = Math.min(2 * n, c.size());
            }
        }
        return c;
    }

    private static List<List<Loss>> split(List<Loss> c, int n) {
        List<List<Loss>> parts = new ArrayList<>();
        int start = 0;
        for (int i = 0; i < n; i++) {
            int end = start + (c.size() - start) / (n - i);
            parts.add(new ArrayList<>(c.subList(start, end)));
            start = end;
        }
        return parts;
    }
}
