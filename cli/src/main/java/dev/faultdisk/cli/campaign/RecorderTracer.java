package dev.faultdisk.cli.campaign;

import dev.faultdisk.client.FaultdiskClient;
import dev.faultdisk.wire.history.HistoryEntry;
import dev.faultdisk.wire.history.HistoryReader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * The trace from the server: the export's history recorder started with reads
 * (history-start {@code reads}), so every write, trim and read is in the history file, in order,
 * reads as their place without their data; read back with {@link HistoryReader}. The file is on
 * disk, so a long trace loses nothing (up to the history's size budget, 1 GiB by default: 64
 * bytes per read). The history file is written by the server, so it must share this host's file
 * system (it does for servers on this host).
 */
record RecorderTracer(FaultdiskClient client, String export, Path history, String base) implements Tracer {

    @Override
    public void start() throws Exception {
        Files.deleteIfExists(history);
        Files.createDirectories(history.getParent());
        if (client.querySnapshots(export).stream().anyMatch(s -> s.name().equals(base))) {
            client.snapshotDelete(export, base);
        }
        client.historyStart(export, history.toString(), base, true);
    }

    @Override
    public List<Request> stop() throws Exception {
        List<Request> out = new ArrayList<>();
        client.historyStop(export);
        client.snapshotDelete(export, base);
        try (HistoryReader r = HistoryReader.open(history)) {
            for (HistoryEntry e : r.entries()) {
                if (e.isChange() || e.kind() == HistoryEntry.Kind.READ) {
                    out.add(new Request(e.isChange(), e.offset(), e.length()));
                }
            }
        }
        return out;
    }
}
