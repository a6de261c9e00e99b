package dev.faultdisk.trigger;

import dev.faultdisk.wire.Errno;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * What a trigger does when it fires: run a control command (on any export), or act on the request
 * that fired it before that request goes on.
 */
public sealed interface TriggerAction {

    /** The action as JSON-like maps, for query-triggers and events. */
    Map<String, Object> describe();

    /** True for actions on the firing request itself. */
    default boolean onRequest() {
        return true;
    }

    /** True for actions that decide the request's outcome (at most one per trigger). */
    default boolean decidesOutcome() {
        return false;
    }

    /** Runs a control command, as a QMP client would. */
    record Command(String execute, Map<String, Object> arguments) implements TriggerAction {
        public Command {
            arguments = Map.copyOf(arguments);
        }

        @Override
        public Map<String, Object> describe() {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("execute", execute);
            if (!arguments.isEmpty()) {
                m.put("arguments", new LinkedHashMap<>(arguments));
            }
            return m;
        }

        @Override
        public boolean onRequest() {
            return false;
        }
    }

    /** Holds the request until released (fault-release), or until the timeout, then lets it run. */
    record Hold(long timeoutNanos) implements TriggerAction {
        @Override
        public Map<String, Object> describe() {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("action", "hold");
            if (timeoutNanos > 0) {
                m.put("timeout-ms", timeoutNanos / 1e6);
            }
            return m;
        }
    }

    /** Delays the request. */
    record Delay(long nanos) implements TriggerAction {
        @Override
        public Map<String, Object> describe() {
            return Map.of("action", "delay", "ms", nanos / 1e6);
        }
    }

    /** Fails the request with an errno; it does not reach the disk. */
    record Fail(int errno) implements TriggerAction {
        @Override
        public Map<String, Object> describe() {
            return Map.of("action", "fail", "errno", Errno.name(errno));
        }

        @Override
        public boolean decidesOutcome() {
            return true;
        }
    }

    /**
     * Tears a write: only its first {@code keepSectors} 512-byte sectors reach the disk; then it
     * fails with {@code errno}, or with 0 reports success (a torn write nobody is told of).
     */
    record Tear(long keepSectors, int errno) implements TriggerAction {
        @Override
        public Map<String, Object> describe() {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("action", "tear");
            m.put("keep-sectors", keepSectors);
            if (errno == 0) {
                m.put("silent", true);
            } else {
                m.put("errno", Errno.name(errno));
            }
            return m;
        }

        @Override
        public boolean decidesOutcome() {
            return true;
        }
    }

    /** Loses a write, trim or write-zeroes: acknowledged, nothing stored. */
    record Lose() implements TriggerAction {
        @Override
        public Map<String, Object> describe() {
            return Map.of("action", "lose");
        }

        @Override
        public boolean decidesOutcome() {
            return true;
        }
    }
}
