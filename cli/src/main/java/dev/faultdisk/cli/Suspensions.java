package dev.faultdisk.cli;

import dev.faultdisk.client.Suspension;
import java.util.LinkedHashMap;
import java.util.Map;

/** How the commands and the scenario journal show a request held at a breakpoint. */
final class Suspensions {
    private Suspensions() {}

    /** One line, as break list and break wait print it. */
    static String line(Suspension s) {
        return s.device() + ": " + s.tag() + " holds a " + s.operation() + " of " + s.length() + " bytes at offset "
                + s.offset() + " (" + s.event() + ")";
    }

    /** As --json prints it and a scenario journal records a breakpoint hit. */
    static Map<String, Object> json(Suspension s) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("device", s.device());
        m.put("tag", s.tag());
        m.put("event", s.event());
        m.put("operation", s.operation());
        m.put("offset", s.offset());
        m.put("length", s.length());
        return m;
    }
}
