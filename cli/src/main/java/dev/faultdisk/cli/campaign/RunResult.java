package dev.faultdisk.cli.campaign;

import dev.faultdisk.wire.json.Json;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * One run's result, written to {@code runs/ID/result.json} when the run ends: a campaign that
 * finds it there does not run it again.
 */
record RunResult(
        String id,
        Target target,
        FaultKind fault,
        Outcome outcome,
        String detail,
        String armed,
        long faultsFired,
        Map<String, String> roles,
        Instant started,
        Duration took,
        Path dir,
        String rerun,
        boolean restarted,
        int slot) {

    Map<String, Object> toJson() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("id", id);
        m.put("target", target.toJson());
        m.put("fault", fault.wireName());
        m.put("outcome", outcome.wireName());
        m.put("detail", detail);
        m.put("armed", armed);
        m.put("faults-fired", faultsFired);
        m.put("roles", roles);
        m.put("started", started.toString());
        m.put("seconds", took.toMillis() / 1000.0);
        m.put("dir", dir.toString());
        m.put("rerun", rerun);
        m.put("restarted", restarted);
        m.put("slot", slot);
        return m;
    }

    void save(Path file) throws IOException {
        CampaignRunner.writeJson(file, toJson());
    }

    /** The result in {@code file}, or null if there is none (or it is unreadable: run again). */
    @SuppressWarnings("unchecked")
    static RunResult load(Path file) throws IOException {
        if (!Files.exists(file)) {
            return null;
        }
        try {
            Map<String, Object> m = Json.parseObject(Files.readString(file));
            return new RunResult(
                    (String) m.get("id"),
                    Target.fromJson((Map<String, Object>) m.get("target")),
                    FaultKind.byName((String) m.get("fault")).orElseThrow(),
                    Outcome.byName((String) m.get("outcome")).orElseThrow(),
                    (String) m.get("detail"),
                    (String) m.get("armed"),
                    ((Number) m.get("faults-fired")).longValue(),
                    (Map<String, String>) m.get("roles"),
                    Instant.parse((String) m.get("started")),
                    Duration.ofMillis((long) (((Number) m.get("seconds")).doubleValue() * 1000)),
                    Path.of((String) m.get("dir")),
                    (String) m.get("rerun"),
                    Boolean.TRUE.equals(m.get("restarted")),
                    m.get("slot") instanceof Number n ? n.intValue() : 0);
        } catch (RuntimeException e) {
            return null;
        }
    }
}
