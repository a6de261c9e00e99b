package dev.faultdisk.server;

import dev.faultdisk.export.Export;
import dev.faultdisk.export.ExportRegistry;
import dev.faultdisk.fault.FaultJournal;
import dev.faultdisk.fault.FaultTime;
import dev.faultdisk.nbd.NbdServer;
import dev.faultdisk.qmp.CommandRegistry;
import dev.faultdisk.qmp.QmpCommand;
import dev.faultdisk.qmp.QmpServer;
import dev.faultdisk.trigger.TriggerEngine;
import java.time.InstantSource;
import java.util.Map;
import java.util.SplittableRandom;

/** Registers every control command on a registry. One class per family of commands. */
final class ControlCommands {
    private ControlCommands() {}

    /** What the commands share with the rest of the server. */
    record Engines(TriggerEngine triggers, ServerMetrics metrics) {}

    /**
     * Registers everything and wires the exports there are; returns the server's trigger engine
     * and metrics. Exports added later take their seeds from {@code exportSeeds}.
     */
    static Engines registerAll(
            CommandRegistry commands,
            ExportRegistry exports,
            NbdServer nbd,
            QmpServer qmp,
            InstantSource clock,
            FaultJournal journal,
            FaultTime faultTime,
            SplittableRandom exportSeeds,
            boolean timeRequests,
            HoldTimeout holdTimeout) {
        commands.register(QmpCommand.builder("query-events")
                .doc("""
                        Lists the events this server emits, as QEMU's query-events does; the Events section below
                        describes each.""")
                .returns("[{\"name\": str}]")
                .example("-> {\"execute\": \"query-events\"}")
                .example("<- {\"return\": [{\"name\": \"BLOCK_IO_ERROR\"}, {\"name\": \"BLKDEBUG_SUSPENDED\"}, ...]}")
                .handler(args ->
                        EventDoc.ALL.stream().map(e -> Map.of("name", e.name())).toList())
                .build());
        BlockCommands.register(commands, exports, nbd);
        BlkdebugCommands.register(commands, exports);
        CacheCommands.register(commands, exports, qmp);
        FaultCommands.register(commands, exports, journal);
        TriggerEngine triggers = TriggerCommands.engine(commands, clock);
        TriggerCommands.register(commands, exports, triggers);
        TriggerCommands.wire(triggers, qmp, journal, clock);
        ServerMetrics metrics = new ServerMetrics(exports, nbd, qmp, triggers, timeRequests);
        MetricsCommands.register(commands, exports, metrics);
        ExportWiring wiring =
                new ExportWiring(nbd, qmp, journal, triggers, FaultCommands.events(qmp), metrics, holdTimeout);
        for (Export e : exports.all()) {
            wiring.wire(e);
        }
        new ExportCommands(exports, nbd, wiring, triggers, journal, faultTime, exportSeeds).register(commands);
        SnapshotCommands.register(commands, exports, triggers);
        FileMapCommands.register(commands, exports);
        HistoryCommands.register(commands, exports);
        return new Engines(triggers, metrics);
    }
}
