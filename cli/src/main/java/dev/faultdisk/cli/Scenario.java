package dev.faultdisk.cli;

import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A schedule of control commands: each step waits for its trigger, then runs one command or
 * resumes a held request. Steps run in order. docs/SCENARIOS.md describes the file format.
 */
record Scenario(String name, String description, List<Step> steps) {

    /** One step; {@code index} counts from 1. */
    record Step(int index, String name, Trigger trigger, Action action, Duration timeout) {}

    /** When a step runs. */
    sealed interface Trigger {
        /** Right after the previous step. */
        record Next() implements Trigger {}

        /** At this offset from the start of the run. */
        record At(Duration offset) implements Trigger {}

        /**
         * Inside the request that follows {@code count} requests of operation {@code op} (write or
         * flush) to {@code device}, counted from when the step became current (a trigger on the
         * server).
         */
        record AfterRequests(String op, String device, long count) implements Trigger {
            /** The operation's plural, as the scenario key says it: writes, flushes. */
            String plural() {
                return op.equals("flush") ? "flushes" : op + "s";
            }

            /** The scenario key: after-writes, after-flushes. */
            String key() {
                return "after-" + plural();
            }
        }

        /** When a request of {@code device} is held at the breakpoint {@code tag} (a trigger on the server). */
        record OnBreakpoint(String device, String tag) implements Trigger {}
    }

    /** What a step does. */
    sealed interface Action {
        /** A QMP command. */
        record Execute(String command, Map<String, Object> arguments) implements Action {}

        /** blkdebug-resume of {@code tag}. */
        record Resume(String device, String tag) implements Action {}

        /** The command this action sends. */
        default String command() {
            return this instanceof Execute e ? e.command() : "blkdebug-resume";
        }

        /** Its arguments. */
        default Map<String, Object> arguments() {
            return switch (this) {
                case Execute e -> e.arguments();
                case Resume r -> {
                    Map<String, Object> m = new LinkedHashMap<>();
                    m.put("device", r.device());
                    m.put("tag", r.tag());
                    yield m;
                }
            };
        }
    }
}
