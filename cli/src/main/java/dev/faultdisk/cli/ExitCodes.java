package dev.faultdisk.cli;

import java.util.LinkedHashMap;
import java.util.Map;

/** What the control commands' exit codes mean; shown in every command's --help and in docs/CLI.md. */
final class ExitCodes {
    static final int OK = 0;
    /** The server refused a command (a QMP error), or a scenario step failed. */
    static final int REFUSED = 1;
    /** Bad options or arguments, or an invalid scenario file. */
    static final int USAGE = 2;
    /** Nothing answers QMP at the address, or the connection was lost. */
    static final int CANNOT_CONNECT = 3;
    /** Something awaited (a breakpoint hit, events, a scenario trigger) did not happen in time. */
    static final int TIMEOUT = 4;
    /** serve, attach and detach, which work on the host: the work failed (a port taken, a tool refused). */
    static final int FAILED = 1;
    /** explore: the run was explored and some crash states broke the check. */
    static final int VIOLATIONS = 5;

    private ExitCodes() {}

    /** For picocli's exit code list: code to description. */
    static Map<String, String> describe() {
        Map<String, String> m = new LinkedHashMap<>();
        m.put("0", "done");
        m.put("1", "the server refused a command (QMP error), or a scenario step failed");
        m.put("2", "bad options or arguments, or an invalid scenario file");
        m.put("3", "cannot connect to the QMP socket, or the connection was lost");
        m.put("4", "timed out waiting (breakpoint hit, events, scenario trigger)");
        m.put("5", "explore found crash states that break the check");
        return m;
    }
}
