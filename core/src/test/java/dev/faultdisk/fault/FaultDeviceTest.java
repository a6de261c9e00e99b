package dev.faultdisk.fault;

import static dev.faultdisk.fault.Disk.rule;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;

/** What the fault layer tells the frontend (may a call block) and what it lists. */
class FaultDeviceTest {

    @Test
    void idleUntilRulesExistAndBlockingOnlyWithBlockingRules() throws Exception {
        try (Disk disk = Disk.auto(1 << 20)) {
            assertFalse(disk.device().mayBlock());
            List<Long> error = disk.add(rule("type", "error", "ops", "write"));
            assertFalse(disk.device().mayBlock(), "an error rule never blocks: requests stay inline");
            for (String type : List.of("delay", "hang", "throttle")) {
                List<Long> ids = disk.add(
                        switch (type) {
                            case "delay" -> rule("type", "delay", "ms", 1);
                            case "hang" -> rule("type", "hang");
                            default -> rule("type", "throttle", "ops-per-second", 10);
                        });
                assertTrue(disk.device().mayBlock(), type);
                disk.faults().remove(ids);
                assertFalse(disk.device().mayBlock(), type + " removed");
            }
            disk.faults().remove(error);
            assertEquals(List.of(), disk.faults().rules());
        }
    }

    @Test
    void listingShowsCountsAndStateAndJournalHasTheSeeds() throws Exception {
        try (Disk disk = Disk.auto(1 << 20)) {
            disk.add(rule("type", "error", "ops", "read", "probability", 0.5, "seed", 77, "label", "half"));
            int failed = 0;
            for (int i = 0; i < 100; i++) {
                try {
                    disk.read(0, 512);
                } catch (dev.faultdisk.device.DeviceException e) {
                    failed++;
                }
            }
            FaultRule r = disk.faults().rules().getFirst();
            assertEquals(100, r.matched());
            assertEquals(failed, r.fired());
            assertEquals(failed, r.chosen());
            assertEquals("active", r.state(disk.faults().time()));
            var added = disk.journal.entries(0, 1, null).getFirst();
            assertEquals("rules-added", added.get("event"));
            assertEquals(77L, ((java.util.Map<?, ?>) ((List<?>) added.get("rules")).getFirst()).get("seed"));
            var fault = disk.faultEntries().getFirst();
            assertEquals(77L, fault.get("seed"));
            assertEquals("half", fault.get("label"));
            assertTrue((Long) fault.get("match") >= 1);
            assertEquals(failed, disk.journal.entries(1, 1000, "d").size());
            assertEquals(0, disk.journal.entries(0, 1000, "other").size());
        }
    }
}
