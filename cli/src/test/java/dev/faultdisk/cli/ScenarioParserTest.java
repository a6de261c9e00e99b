package dev.faultdisk.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Scenario files: what a valid one means, and every problem of an invalid one. */
class ScenarioParserTest {

    @Test
    void readsEveryTriggerAndAction() throws Exception {
        Scenario s = ScenarioParser.parse("""
                {"name": "n", "description": "d", "device": "disk0", "timeout": "5s", "steps": [
                  {"execute": "blkdebug-set-breakpoint", "arguments": {"device": "disk0", "event": "write_aio", "tag": "w"}},
                  {"name": "held", "on-breakpoint": "w", "execute": "query-block"},
                  {"resume": "w", "device": "d1", "timeout": "1m"},
                  {"after-writes": 100, "execute": "blkdebug-clear-rules", "arguments": {"device": "disk0"}},
                  {"at": "1.5s", "execute": "query-blockstats"}
                ]}""", "f.json");
        assertEquals("n", s.name());
        assertEquals("d", s.description());
        List<Scenario.Step> steps = s.steps();
        assertEquals(
                new Scenario.Step(
                        1,
                        "",
                        new Scenario.Trigger.Next(),
                        new Scenario.Action.Execute(
                                "blkdebug-set-breakpoint", Map.of("device", "disk0", "event", "write_aio", "tag", "w")),
                        Duration.ofSeconds(5)),
                steps.get(0));
        assertEquals(
                new Scenario.Trigger.OnBreakpoint("disk0", "w"), steps.get(1).trigger());
        assertEquals("held", steps.get(1).name());
        assertEquals(
                new Scenario.Action.Execute("query-block", Map.of()),
                steps.get(1).action());
        assertEquals(new Scenario.Action.Resume("d1", "w"), steps.get(2).action());
        assertEquals(Duration.ofMinutes(1), steps.get(2).timeout());
        assertEquals(Map.of("device", "d1", "tag", "w"), steps.get(2).action().arguments());
        assertEquals("blkdebug-resume", steps.get(2).action().command());
        assertEquals(
                new Scenario.Trigger.AfterRequests("write", "disk0", 100),
                steps.get(3).trigger());
        assertEquals(
                new Scenario.Trigger.At(Duration.ofMillis(1500)), steps.get(4).trigger());
        assertEquals(
                ScenarioParser.DEFAULT_TIMEOUT,
                ScenarioParser.parse("{\"steps\": [{\"execute\": \"x\"}]}", "g.json")
                        .steps()
                        .getFirst()
                        .timeout());
        assertEquals(
                "g.json",
                ScenarioParser.parse("{\"steps\": [{\"execute\": \"x\"}]}", "g.json")
                        .name(),
                "unnamed: the file");
    }

    @Test
    void reportsEveryProblemWithItsPlace() {
        ScenarioException e = assertThrows(ScenarioException.class, () -> ScenarioParser.parse("""
                {"name": 3, "stepz": [], "timeout": 5, "steps": [
                  {"at": "5x", "execute": "a"},
                  {"at": "1s", "after-writes": 3, "execute": "b"},
                  {"after-writes": 0, "execute": "c", "device": "d"},
                  {"resume": "t"},
                  {"execute": "q", "arguments": [1]},
                  {"at": "2s", "execute": "x"},
                  {"at": "1s", "execute": "y"},
                  {"execute": "e", "resume": "t", "device": "d"},
                  {"on-breakpoint": "t"},
                  {"resume": "t", "device": "d", "arguments": {}},
                  {"at": null, "execute": "z"},
                  7
                ]}""", "bad.json"));
        assertEquals(
                List.of(
                        "stepz: unknown key (expected one of [description, device, name, steps, timeout])",
                        "name: needs a non-empty string, not an integer",
                        "timeout: needs a duration string such as \"5s\", not an integer",
                        "steps[0].at: bad duration '5x' (use e.g. 250ms, 5s, 1.5s, 2m, 1h)",
                        "steps[1]: give one trigger, not at and after-writes",
                        "steps[2].after-writes: needs a whole number of writes, at least 1",
                        "steps[3]: resume needs \"device\" (on the step or the scenario)",
                        "steps[4].arguments: must be an object, not an array",
                        "steps[6].at: 1s is earlier than steps[5].at (2s); steps run in order",
                        "steps[7]: give \"execute\" (a QMP command) or \"resume\" (a breakpoint tag), not both",
                        "steps[8]: on-breakpoint needs \"device\" (on the step or the scenario)",
                        "steps[8]: give \"execute\" (a QMP command) or \"resume\" (a breakpoint tag)",
                        "steps[9].arguments: only with \"execute\"",
                        "steps[10].at: needs a duration string such as \"5s\", not null",
                        "steps[11]: a step is an object, not an integer"),
                e.problems());
        assertTrue(e.getMessage().startsWith("bad.json: 15 problems:\n  stepz:"), e.getMessage());
    }

    @Test
    void theDocumentedScenariosAreValid() throws Exception {
        try (var files = java.nio.file.Files.list(java.nio.file.Path.of("../docs/scenarios"))) {
            List<java.nio.file.Path> all =
                    files.filter(f -> f.toString().endsWith(".json")).toList();
            assertTrue(!all.isEmpty(), "docs/scenarios has examples");
            for (java.nio.file.Path f : all) {
                assertTrue(
                        ScenarioParser.parse(java.nio.file.Files.readString(f), f.toString())
                                        .steps()
                                        .size()
                                > 1,
                        f.toString());
            }
        }
    }

    @Test
    void notJsonOrNotAScenario() {
        ScenarioException e =
                assertThrows(ScenarioException.class, () -> ScenarioParser.parse("{\"steps\": [\n{]}", "x.json"));
        assertEquals("x.json: not valid JSON: line 2, column 2: JSON parse error, expecting value", e.getMessage());
        e = assertThrows(ScenarioException.class, () -> ScenarioParser.parse("[]", "x.json"));
        assertEquals("x.json: a scenario is a JSON object with \"steps\", not an array", e.getMessage());
        e = assertThrows(ScenarioException.class, () -> ScenarioParser.parse("{\"steps\": []}", "x.json"));
        assertEquals("x.json: steps: needs a non-empty array of steps", e.getMessage());
    }
}
