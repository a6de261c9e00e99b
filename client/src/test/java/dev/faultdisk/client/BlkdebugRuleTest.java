package dev.faultdisk.client;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.faultdisk.wire.Errno;
import dev.faultdisk.wire.json.Json;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class BlkdebugRuleTest {

    @Test
    void builderWritesTheServersMembers() {
        assertEquals(
                "{\"type\": \"inject-error\", \"event\": \"write_aio\", \"errno\": 28, \"immediately\": true, "
                        + "\"iotype\": [\"write\", \"flush\"], \"once\": true, \"sector\": 8, \"state\": 2}",
                Json.write(BlkdebugRule.injectError("write_aio")
                        .errno("enospc")
                        .once()
                        .immediately()
                        .sector(8)
                        .state(2)
                        .iotype("write", "flush")));
        assertEquals(
                "{\"type\": \"set-state\", \"event\": \"read_aio\", \"new_state\": 2, \"state\": 1}",
                Json.write(BlkdebugRule.setState("read_aio", 1, 2)));
        assertEquals(
                "{\"type\": \"set-state\", \"event\": \"none\", \"new_state\": 3}",
                Json.write(BlkdebugRule.setState("none", 3)));
    }

    @Test
    void rulesAreImmutableValues() {
        BlkdebugRule base = BlkdebugRule.injectError("write_aio");
        BlkdebugRule once = base.once();
        assertNotEquals(base, once);
        assertEquals(Map.of("type", "inject-error", "event", "write_aio"), base.toJson());
        assertEquals(once, BlkdebugRule.injectError("write_aio").once());
        assertEquals(once, BlkdebugRule.fromJson(once.toJson()));
    }

    @Test
    void misuseIsAClearError() {
        IllegalStateException e = assertThrows(
                IllegalStateException.class,
                () -> BlkdebugRule.setState("read_aio", 2).errno(5));
        assertTrue(e.getMessage().contains("inject-error rules only"), e.getMessage());
        IllegalArgumentException bad = assertThrows(
                IllegalArgumentException.class,
                () -> BlkdebugRule.injectError("x").errno("ENOPE"));
        assertTrue(bad.getMessage().contains("unknown errno 'ENOPE'"), bad.getMessage());
        assertThrows(
                IllegalArgumentException.class, () -> BlkdebugRule.fromJson(Map.of("type", "explode", "event", "x")));
        assertThrows(IllegalArgumentException.class, () -> BlkdebugRule.fromJson(Map.of("type", "set-state")));
    }

    @Test
    void errnoNamesAndNumbers() {
        assertEquals(28, Errno.parse("ENOSPC"));
        assertEquals(28, Errno.parse(" 28 "));
        assertEquals("EROFS", Errno.knownName(30).orElseThrow());
        assertTrue(Errno.knownName(4000).isEmpty());
        List<String> names = new java.util.ArrayList<>();
        Errno.names().forEach(names::add);
        assertEquals(names.size(), names.stream().distinct().count());
    }
}
