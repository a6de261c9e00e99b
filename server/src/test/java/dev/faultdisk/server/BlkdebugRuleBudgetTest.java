package dev.faultdisk.server;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** blkdebug-set-rules keeps to the export's rules budget (--max-rules), apart from the fault rules. */
class BlkdebugRuleBudgetTest {
    private static final String SET_THREE = """
            {"execute": "blkdebug-set-rules", "arguments": {"device": "d0", "rules": [
              {"type": "inject-error", "event": "read_aio", "errno": 28},
              {"type": "inject-error", "event": "write_aio"},
              {"type": "set-state", "event": "flush_to_os", "new_state": 3}]}}""";

    @RegisterExtension
    final RunningServer fd = new RunningServer(
            b -> b.export("d0=memory:1M").export("d1=memory:1M").faultLimits(4, 1024, 1 << 20));

    @Test
    void setRulesPastTheBudgetIsRefusedNamingTheLimitAndChangesNothing() {
        assertEquals(Map.of(), fd.execute(SET_THREE));
        Map<String, Object> before =
                fd.executeMap("{\"execute\": \"query-blkdebug-rules\", \"arguments\": {\"device\": \"d0\"}}");
        assertEquals(
                "GenericError: export 'd0' has 3 blkdebug rules and 3 more would pass the limit of 4 (max-rules)",
                fd.error(SET_THREE));
        assertEquals(
                before,
                fd.executeMap("{\"execute\": \"query-blkdebug-rules\", \"arguments\": {\"device\": \"d0\"}}"),
                "nothing was added");

        // The budget is per export, and fault rules count apart.
        assertEquals(Map.of(), fd.execute(SET_THREE.replace("d0", "d1")));
        fd.execute("""
                {"execute": "fault-add", "arguments": {"device": "d0", "rules": [
                  {"type": "error", "ops": ["read"]}, {"type": "error", "ops": ["read"]},
                  {"type": "error", "ops": ["read"]}, {"type": "error", "ops": ["read"]}]}}""");

        fd.execute("{\"execute\": \"blkdebug-clear-rules\", \"arguments\": {\"device\": \"d0\"}}");
        assertEquals(Map.of(), fd.execute(SET_THREE), "clearing frees the budget");
        assertEquals(
                3,
                ((List<?>) fd.executeMap("{\"execute\": \"query-blkdebug-rules\", \"arguments\": {\"device\": \"d0\"}}")
                                .get("rules"))
                        .size());
    }

    @Test
    void breakpointsPastTheBudgetAreRefusedNamingTheLimit() {
        for (int i = 0; i < 4; i++) {
            fd.execute("{\"execute\": \"blkdebug-set-breakpoint\", \"arguments\": {\"device\": \"d0\", "
                    + "\"event\": \"write_aio\", \"tag\": \"t" + i + "\"}}");
        }
        assertEquals(
                "GenericError: export 'd0' has 4 blkdebug breakpoints not yet fired and one more would pass the "
                        + "limit of 4 (max-rules)",
                fd.error("{\"execute\": \"blkdebug-set-breakpoint\", \"arguments\": {\"device\": \"d0\", "
                        + "\"event\": \"write_aio\", \"tag\": \"t4\"}}"));
        assertEquals(
                4,
                ((List<?>) fd.executeMap(
                                        "{\"execute\": \"query-blkdebug-breakpoints\", \"arguments\": {\"device\": \"d0\"}}")
                                .get("breakpoints"))
                        .size());
    }
}
