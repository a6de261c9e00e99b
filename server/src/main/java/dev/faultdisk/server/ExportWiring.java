package dev.faultdisk.server;

import dev.faultdisk.export.Export;
import dev.faultdisk.fault.FaultJournal;
import dev.faultdisk.fault.FaultListener;
import dev.faultdisk.nbd.NbdServer;
import dev.faultdisk.qmp.QmpServer;
import dev.faultdisk.trigger.TriggerEngine;

/**
 * Connects one export to the rest of the server: its blkdebug and fault events to QMP and the
 * journal, its requests and events to the triggers, its power cuts to its NBD connections, and
 * its faults and request latencies to the metrics.
 * Exports from the command line and those added at run time go through the same {@link #wire}.
 *
 * @param faultEvents where fault events go: {@link FaultCommands#events} of {@code qmp}
 */
record ExportWiring(
        NbdServer nbd,
        QmpServer qmp,
        FaultJournal journal,
        TriggerEngine triggers,
        FaultListener faultEvents,
        ServerMetrics metrics,
        HoldTimeout holdTimeout) {
    /** Once per export, before any client can reach it. */
    void wire(Export export) {
        BlkdebugCommands.wireEvents(export, qmp);
        FaultCommands.wireEvents(export, faultEvents, journal);
        export.attachTriggers(triggers);
        nbd.dropConnectionsOnPowerFail(export);
        metrics.wire(export);
        export.faults().defaultHoldTimeout(holdTimeout.nanos(), holdTimeout.source());
    }
}
