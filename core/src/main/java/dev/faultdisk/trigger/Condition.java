package dev.faultdisk.trigger;

import dev.faultdisk.fault.RequestScope;
import dev.faultdisk.wire.BlockOp;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.BiConsumer;

/**
 * When a trigger fires: a condition on the stream of {@link Observation}s, immutable. Each trigger
 * evaluates its own {@link Matcher}, which holds the counts; counting starts when the trigger is
 * added (for a step of a sequence: when the step before it was satisfied).
 */
sealed interface Condition {

    /** Fresh evaluation state. */
    Matcher matcher();

    /** The condition as JSON-like maps, for query-triggers. */
    Map<String, Object> describe();

    /** True if every observation that can complete this condition is a request about to run. */
    boolean completesOnRequest();

    /** Calls {@code sink} with every (export or null for any, ops) pair a request leaf matches. */
    void requestInterests(BiConsumer<String, Set<BlockOp>> sink);

    /** Exports this condition names. */
    void exports(Set<String> into);

    /** Requests on an export (null: any export) that fall in a {@link RequestScope}. */
    record Requests(String export, RequestScope scope, Count count) implements Condition {

        boolean matches(Observation o) {
            return o.kind() == Observation.Kind.REQUEST
                    && (export == null || export.equals(o.export()))
                    && scope.fits(o.op(), o.offset(), o.length(), o.connection());
        }

        @Override
        public Matcher matcher() {
            return new Leaf(
                    this::matches,
                    count,
                    () -> BlockOp.names(scope.ops()) + (export == null ? " on any export" : " on " + export));
        }

        @Override
        public Map<String, Object> describe() {
            Map<String, Object> m = new LinkedHashMap<>();
            if (export != null) {
                m.put("device", export);
            }
            scope.describeTarget(m, Long.MAX_VALUE);
            if (scope.connection() >= 0) {
                m.put("connection", scope.connection());
            }
            count.describe(m);
            return m;
        }

        @Override
        public boolean completesOnRequest() {
            return true;
        }

        @Override
        public void requestInterests(BiConsumer<String, Set<BlockOp>> sink) {
            sink.accept(export, scope.ops());
        }

        @Override
        public void exports(Set<String> into) {
            if (export != null) {
                into.add(export);
            }
        }
    }

    /** An event of one kind on an export (null: any), optionally only with one detail (event name, rule id, tag). */
    record Event(Observation.Kind kind, String export, String detail, Count count) implements Condition {

        boolean matches(Observation o) {
            return o.kind() == kind
                    && (export == null || export.equals(o.export()))
                    && (detail == null || detail.equals(o.detail()));
        }

        @Override
        public Matcher matcher() {
            return new Leaf(
                    this::matches,
                    count,
                    () -> kind.wireName()
                            + (detail == null ? "" : " " + detail)
                            + (export == null ? " on any export" : " on " + export));
        }

        @Override
        public Map<String, Object> describe() {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("event", kind.wireName());
            if (export != null) {
                m.put("device", export);
            }
            if (detail != null) {
                m.put(Conditions.detailKey(kind), detail);
            }
            count.describe(m);
            return m;
        }

        @Override
        public boolean completesOnRequest() {
            return false;
        }

        @Override
        public void requestInterests(BiConsumer<String, Set<BlockOp>> sink) {}

        @Override
        public void exports(Set<String> into) {
            if (export != null) {
                into.add(export);
            }
        }
    }

    /** How a combination of conditions is satisfied. */
    enum Combinator {
        /** Every part satisfied, in any order; satisfied at the observation that completes the last. */
        ALL_OF("all-of"),
        /** Any part satisfied. */
        ANY_OF("any-of"),
        /** The parts one after another: a step starts counting once the step before it is satisfied. */
        SEQUENCE("sequence");

        private final String wireName;

        Combinator(String wireName) {
            this.wireName = wireName;
        }

        String wireName() {
            return wireName;
        }
    }

    /** Conditions combined: all of them, any of them, or one after another. */
    record Combined(Combinator combinator, List<Condition> parts) implements Condition {
        @Override
        public Matcher matcher() {
            return switch (combinator) {
                case ALL_OF -> new Matchers.All(parts);
                case ANY_OF -> new Matchers.Any(parts);
                case SEQUENCE -> new Matchers.Steps(parts);
            };
        }

        @Override
        public Map<String, Object> describe() {
            return Map.of(combinator.wireName(), Conditions.describeAll(parts));
        }

        /** A sequence completes with its last step; all-of and any-of with any of their parts. */
        @Override
        public boolean completesOnRequest() {
            return combinator == Combinator.SEQUENCE
                    ? parts.getLast().completesOnRequest()
                    : parts.stream().allMatch(Condition::completesOnRequest);
        }

        @Override
        public void requestInterests(BiConsumer<String, Set<BlockOp>> sink) {
            parts.forEach(p -> p.requestInterests(sink));
        }

        @Override
        public void exports(Set<String> into) {
            parts.forEach(p -> p.exports(into));
        }
    }
}
