package dev.faultdisk.trigger;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Which of a condition's matches satisfy it, counting from 1 since counting started: only the
 * {@code nth}, every one {@code after} the first N, or every {@code every}-th; with none given,
 * every match.
 */
record Count(long nth, long after, long every) {
    static final Count ANY = new Count(0, 0, 0);

    boolean satisfiedAt(long count) {
        if (nth > 0) {
            return count == nth;
        }
        if (every > 0) {
            return count % every == 0;
        }
        return count > after;
    }

    /** The match count at which this is first satisfied: for progress ("12/20 writes"). */
    long target() {
        if (nth > 0) {
            return nth;
        }
        if (every > 0) {
            return every;
        }
        return after + 1;
    }

    void describe(Map<String, Object> into) {
        if (nth > 0) {
            into.put("nth", nth);
        }
        if (after > 0) {
            into.put("after", after);
        }
        if (every > 0) {
            into.put("every", every);
        }
    }

    Map<String, Object> describe() {
        Map<String, Object> m = new LinkedHashMap<>();
        describe(m);
        return m;
    }
}
