package dev.faultdisk.export;

import dev.faultdisk.cache.PowerSwitch;
import dev.faultdisk.device.BlockDevice;
import dev.faultdisk.device.DeviceStats;
import dev.faultdisk.fault.FaultEngine;
import dev.faultdisk.fault.FaultTime;
import dev.faultdisk.fault.blkdebug.BlkdebugEngine;
import dev.faultdisk.wire.CacheMode;

/**
 * What an export's layers are built from: the backend, the export's options, and the state its
 * control commands reach (counters, power switch, engines), which outlives any one layer object.
 */
record ExportParts(
        String name,
        BlockDevice backend,
        boolean readOnly,
        CacheMode cacheMode,
        DeviceStats stats,
        PowerSwitch power,
        FaultEngine faults,
        BlkdebugEngine blkdebug,
        FaultTime time) {}
