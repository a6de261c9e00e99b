package dev.faultdisk.trigger;

import java.util.Map;

/**
 * Runs a control command for a trigger's action: the server passes its QMP command registry, so
 * a trigger can do whatever a client can. Checked when the trigger is added, run when it fires.
 */
public interface CommandRunner {

    /**
     * Checks that {@code command} exists and takes {@code arguments} (names and types), without
     * running it.
     *
     * @throws IllegalArgumentException saying what is wrong
     */
    void check(String command, Map<String, Object> arguments);

    /**
     * Runs {@code command}; returns its QMP return value.
     *
     * @throws Exception with the command's error message
     */
    Object run(String command, Map<String, Object> arguments) throws Exception;

    /** A runner that knows no command: for engines that only take request actions. */
    CommandRunner NONE = new CommandRunner() {
        @Override
        public void check(String command, Map<String, Object> arguments) {
            throw new IllegalArgumentException("no commands can be run here");
        }

        @Override
        public Object run(String command, Map<String, Object> arguments) {
            throw new IllegalStateException("no commands can be run here");
        }
    };
}
