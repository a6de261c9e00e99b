package dev.faultdisk.client;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.faultdisk.junit.Faultdisk;
import dev.faultdisk.server.FaultdiskServer;
import dev.faultdisk.wire.Errno;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The fault commands through the typed client against a real in-process server. */
@Faultdisk(exports = {"d0=memory:1M", "d1=memory:1M"})
class FaultCommandsClientTest {
    private FaultdiskClient client;
    private DeviceRequests requests;

    @BeforeEach
    void start(FaultdiskClient client, FaultdiskServer server) {
        this.client = client;
        this.requests = new DeviceRequests(server);
    }

    @AfterEach
    void stop() {
        requests.close();
    }

    private Future<Void> write(String device, long offset, int length) {
        return requests.write(device, offset, length);
    }

    private Future<Void> read(String device, long offset, int length) {
        return requests.read(device, offset, length);
    }

    @Test
    void anErrorRuleFailsTheTargetedWriteOnceAndIsListedWithCounts() throws Exception {
        List<Long> ids = client.faultAdd(
                "d0",
                FaultRule.error(Errno.ENOSPC)
                        .ops("write")
                        .range(0, 4096)
                        .times(1)
                        .label("first-block"),
                FaultRule.delay().ops("read").fixedMs(1));
        assertEquals(2, ids.size());
        assertTrue(ids.get(1) > ids.get(0), ids.toString());

        write("d0", 8192, 512).get(10, TimeUnit.SECONDS); // outside the range: matches nothing
        assertEquals(Errno.ENOSPC, DeviceRequests.errnoOf(write("d0", 0, 512)));
        write("d0", 0, 512).get(10, TimeUnit.SECONDS); // times(1): spent
        read("d0", 0, 512).get(10, TimeUnit.SECONDS);

        List<FaultInfo> faults = client.queryFaults("d0");
        assertEquals(ids, faults.stream().map(FaultInfo::id).toList());
        FaultInfo error = faults.getFirst();
        assertEquals("error", error.type());
        assertEquals("first-block", error.label());
        assertEquals(1, error.fired());
        assertEquals("exhausted", error.state());
        assertTrue(error.matched() >= 1, "matched " + error.matched());
        assertEquals("error", error.rule().type());
        assertTrue(error.rule().toJson().containsKey("seed"), "the definition carries the seed: " + error.rule());
        assertEquals(1, faults.get(1).fired(), "the delay fired on the one read");
        assertEquals(List.of(), client.queryFaults("d1"));
        assertEquals(2, client.queryFaults().size());

        FaultJournal journal = client.queryFaultJournal("d0", 0, 100);
        assertTrue(
                journal.entries().stream()
                        .anyMatch(e -> "fault".equals(e.get("event")) && "error".equals(e.get("type"))),
                journal.entries().toString());
        assertEquals(
                0, client.queryFaultJournal(null, journal.last(), 10).entries().size());

        client.faultRemove("d0", ids.get(1));
        assertEquals(
                List.of(ids.get(0)),
                client.queryFaults("d0").stream().map(FaultInfo::id).toList());
        assertEquals(1, client.faultClear("d0"));
        assertEquals(List.of(), client.queryFaults("d0"));
    }

    @Test
    void aBadRuleIsRefusedNamingTheMemberAndNothingIsAdded() {
        QmpException bad = assertThrows(
                QmpException.class,
                () -> client.faultAdd(
                        "d0", FaultRule.error().ops("write"), FaultRule.error().probability(1.5)));
        assertEquals("GenericError", bad.errorClass());
        assertTrue(bad.desc().contains("rules[1].probability"), bad.desc());
        assertEquals(List.of(), client.queryFaults("d0"));
        QmpException unknown = assertThrows(QmpException.class, () -> client.faultRemove("d0", 99));
        assertEquals("GenericError", unknown.errorClass());
    }

    @Test
    void aHeldReadRunsWhenReleasedAndAnotherFailsWithTheGivenErrno() throws Exception {
        long hang = client.faultAdd("d0", FaultRule.hang().ops("read")).getFirst();
        Future<Void> first = read("d0", 0, 512);
        List<HeldRequest> held = awaitHeld(1);
        assertEquals(hang, held.getFirst().rule());
        assertEquals("read", held.getFirst().operation());
        assertEquals(512, held.getFirst().length());
        assertThrows(TimeoutException.class, () -> first.get(100, TimeUnit.MILLISECONDS), "still held");

        assertEquals(List.of(held.getFirst().id()), client.faultRelease("d0"));
        first.get(10, TimeUnit.SECONDS);
        assertEquals(List.of(), client.queryHeldRequests("d0"));

        Future<Void> second = read("d0", 4096, 512);
        long id = awaitHeld(1).getFirst().id();
        assertEquals(List.of(id), client.faultRelease("d0", List.of(id), "given", "EIO"));
        assertEquals(Errno.EIO, DeviceRequests.errnoOf(second));
        assertFalse(client.queryFaults("d0").getFirst().fired() < 2, "both holds counted");
    }

    @Test
    void presetsAndTypesAreListed() {
        List<Long> ids = client.faultPreset("d1", "flaky-disk", Map.of("up-ms", 5000, "down-ms", 1000));
        assertFalse(ids.isEmpty());
        assertEquals("flaky-disk", client.queryFaults("d1").getFirst().label());
        List<FaultType> types = client.queryFaultTypes();
        assertTrue(types.stream()
                .map(FaultType::name)
                .toList()
                .containsAll(List.of("error", "delay", "hang", "torn-write")));
        FaultType error =
                types.stream().filter(t -> t.name().equals("error")).findFirst().orElseThrow();
        assertTrue(error.ops().contains("flush"), error.toString());
    }

    private List<HeldRequest> awaitHeld(int n) {
        List<HeldRequest> held =
                await().atMost(Duration.ofSeconds(10)).until(() -> client.queryHeldRequests("d0"), h -> h.size() >= n);
        assertEquals(n, held.size(), held.toString());
        return held;
    }
}
