package dev.faultdisk.trigger;

import java.util.List;
import java.util.function.Predicate;
import java.util.function.Supplier;

/** Counts the observations a leaf condition matches; satisfied where its {@link Count} says. */
final class Leaf implements Matcher {
    private final Predicate<Observation> matches;
    private final Count count;
    private final Supplier<String> label;
    private long seen;

    Leaf(Predicate<Observation> matches, Count count, Supplier<String> label) {
        this.matches = matches;
        this.count = count;
        this.label = label;
    }

    @Override
    public boolean offer(Observation o) {
        if (!matches.test(o)) {
            return false;
        }
        seen++;
        return count.satisfiedAt(seen);
    }

    @Override
    public void reset() {
        seen = 0;
    }

    @Override
    public void progress(List<String> out) {
        long target = count.target();
        out.add(Math.min(seen, target) + "/" + target + " " + label.get());
    }
}
