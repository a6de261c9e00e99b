package dev.faultdisk.server;

import dev.faultdisk.export.ExportRegistry;
import dev.faultdisk.fault.FaultJournal;
import dev.faultdisk.nbd.NbdServer;
import dev.faultdisk.qmp.CommandRegistry;
import dev.faultdisk.qmp.QmpServer;
import dev.faultdisk.trigger.TriggerEngine;
import java.time.InstantSource;

/** Registers every control command on a registry. One class per family of commands. */
final class ControlCommands {
    private ControlCommands() {}

    /** Registers everything; returns the server's trigger engine. */
    static TriggerEngine registerAll(
            CommandRegistry commands,
            ExportRegistry exports,
            NbdServer nbd,
            QmpServer qmp,
            InstantSource clock,
            FaultJournal journal) {
        BlockCommands.register(commands, exports, nbd);
        BlkdebugCommands.register(commands, exports);
        BlkdebugCommands.wireEvents(exports, qmp);
        CacheCommands.register(commands, exports, qmp);
        FaultCommands.register(commands, exports, journal);
        FaultCommands.wireEvents(exports, qmp, journal);
        TriggerEngine triggers = TriggerCommands.engine(commands, clock);
        TriggerCommands.register(commands, exports, triggers);
        TriggerCommands.wire(exports, triggers, qmp, journal, clock);
        SnapshotCommands.register(commands, exports, triggers);
        return triggers;
    }
}
