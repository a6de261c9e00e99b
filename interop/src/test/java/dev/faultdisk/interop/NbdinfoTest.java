package dev.faultdisk.interop;

import org.junit.jupiter.api.Test;

import java.time.Duration;

import static org.junit.jupiter.api.Assertions.assertTrue;

/** nbdinfo (libnbd) sees the exports, their sizes, flags and allocation map. */
class NbdinfoTest {

    @Test
    void listsExportsAndDescribesOne() throws Exception {
        Tools.require("nbdinfo");
        try (TestServer server = new TestServer("disk0=memory:64M", "small=memory:1M,readonly")) {
            String list = Tools.run(Duration.ofSeconds(30), "nbdinfo", "--list", server.uri(""))
                    .assertOk("nbdinfo --list").stdout();
            assertTrue(list.contains("export=\"disk0\""), list);
            assertTrue(list.contains("export=\"small\""), list);
            String json = Tools.run(Duration.ofSeconds(30), "nbdinfo", "--json", server.uri("small"))
                    .assertOk("nbdinfo --json").stdout();
            assertTrue(json.contains("\"export-size\": 1048576"), json);
            assertTrue(json.contains("\"is_read_only\": true"), json);
        }
    }
}
