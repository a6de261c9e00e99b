package dev.faultdisk.trigger;

import java.util.ArrayList;
import java.util.List;

/** The evaluation state of the combinators. */
final class Matchers {
    private Matchers() {}

    private static List<Matcher> of(List<Condition> parts) {
        List<Matcher> out = new ArrayList<>(parts.size());
        for (Condition c : parts) {
            out.add(c.matcher());
        }
        return out;
    }

    /** all-of: each part latches once satisfied; fires when the last one latches, then starts over. */
    static final class All implements Matcher {
        private final List<Matcher> parts;
        private final boolean[] done;

        All(List<Condition> parts) {
            this.parts = of(parts);
            this.done = new boolean[parts.size()];
        }

        @Override
        public boolean offer(Observation o) {
            boolean all = true;
            for (int i = 0; i < parts.size(); i++) {
                if (!done[i]) {
                    done[i] = parts.get(i).offer(o);
                }
                all &= done[i];
            }
            if (all) {
                reset();
            }
            return all;
        }

        @Override
        public void reset() {
            for (int i = 0; i < parts.size(); i++) {
                done[i] = false;
                parts.get(i).reset();
            }
        }

        @Override
        public void progress(List<String> out) {
            for (int i = 0; i < parts.size(); i++) {
                if (!done[i]) {
                    parts.get(i).progress(out);
                }
            }
        }
    }

    /** any-of: fires whenever a part is satisfied; every part keeps counting. */
    static final class Any implements Matcher {
        private final List<Matcher> parts;

        Any(List<Condition> parts) {
            this.parts = of(parts);
        }

        @Override
        public boolean offer(Observation o) {
            boolean any = false;
            for (Matcher m : parts) {
                any |= m.offer(o);
            }
            return any;
        }

        @Override
        public void reset() {
            parts.forEach(Matcher::reset);
        }

        @Override
        public void progress(List<String> out) {
            parts.forEach(m -> m.progress(out));
        }
    }

    /**
     * sequence: only the current step counts; the observation that satisfies a step is not
     * offered to the next, whose counting starts afterwards. Fires when the last step is
     * satisfied, then starts over from the first.
     */
    static final class Steps implements Matcher {
        private final List<Matcher> steps;
        private int current;

        Steps(List<Condition> steps) {
            this.steps = of(steps);
        }

        @Override
        public boolean offer(Observation o) {
            if (!steps.get(current).offer(o)) {
                return false;
            }
            current++;
            if (current == steps.size()) {
                reset();
                return true;
            }
            steps.get(current).reset();
            return false;
        }

        @Override
        public void reset() {
            current = 0;
            steps.forEach(Matcher::reset);
        }

        @Override
        public void progress(List<String> out) {
            out.add("step " + (current + 1) + "/" + steps.size());
            steps.get(current).progress(out);
        }
    }
}
