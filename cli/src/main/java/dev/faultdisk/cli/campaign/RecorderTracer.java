package dev.faultdisk.cli.campaign;

import dev.faultdisk.client.FaultRule;
import dev.faultdisk.client.FaultdiskClient;
import dev.faultdisk.wire.history.HistoryEntry;
import dev.faultdisk.wire.history.HistoryReader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * The trace from the server: writes (and trims) from the export's history recorder
 * (history-start/-stop, read back with {@link HistoryReader}); reads, which the recorder does not
 * log, from the fault journal, through a rule that delays reads by 1 ms (a zero delay is not a
 * fault, so it would not be journaled) and journals each one
 * without an event. The history file is written by the server, so it must share this host's
 * file system (it does for servers on this host).
 */
final class RecorderTracer implements Tracer {
    private static final String LABEL = "campaign-trace";
    private static final int PAGE = 1000;

    private final FaultdiskClient client;
    private final String export;
    private final Path history;
    private final String base;
    private long ruleId = -1;
    private long journalStart;

    RecorderTracer(FaultdiskClient client, String export, Path history, String base) {
        this.client = client;
        this.export = export;
        this.history = history;
        this.base = base;
    }

    @Override
    public void start() throws Exception {
        Files.deleteIfExists(history);
        Files.createDirectories(history.getParent());
        journalStart = client.queryFaultJournal(export, 0, 1).last();
        if (client.querySnapshots(export).stream().anyMatch(s -> s.name().equals(base))) {
            client.snapshotDelete(export, base);
        }
        client.historyStart(export, history.toString(), base);
        ruleId = client.faultAdd(
                        export,
                        FaultRule.fromJson(Map.of(
                                "type", "delay", "ops", List.of("read"), "ms", 1, "events", false, "label", LABEL)))
                .getFirst();
    }

    @Override
    public List<Request> stop() throws Exception {
        List<Request> out = new ArrayList<>();
        if (ruleId >= 0) {
            client.faultRemove(export, ruleId);
        }
        client.historyStop(export);
        client.snapshotDelete(export, base);
        try (HistoryReader r = HistoryReader.open(history)) {
            for (HistoryEntry e : r.entries()) {
                if (e.isChange()) {
                    out.add(new Request(true, e.offset(), e.length()));
                }
            }
        }
        long after = journalStart;
        while (true) {
            List<Map<String, Object>> page =
                    client.queryFaultJournal(export, after, PAGE).entries();
            if (page.isEmpty()) {
                break;
            }
            for (Map<String, Object> e : page) {
                after = ((Number) e.get("seq")).longValue();
                if (LABEL.equals(e.get("label")) && "fault".equals(e.get("event"))) {
                    out.add(new Request(
                            false, ((Number) e.get("offset")).longValue(), ((Number) e.get("length")).longValue()));
                }
            }
        }
        return out;
    }
}
