package dev.faultdisk.fault;

import dev.faultdisk.device.BlockRequest;
import dev.faultdisk.device.DeviceException;
import dev.faultdisk.wire.BlockOp;
import dev.faultdisk.wire.Errno;
import java.util.LinkedHashMap;
import java.util.Map;

/** Fails the request with an errno; the I/O does not happen. Any operation, flush included. */
record ErrorFault(int errno) implements Fault {
    static final FaultType TYPE = new FaultType(
            "error",
            "fail the request with an errno (EIO by default)",
            BlockOp.ALL,
            BlockOp.ALL,
            (p, c) -> new ErrorFault(p.errno("errno", Errno.EIO)));

    @Override
    public Stage stage() {
        return Stage.ERROR;
    }

    @Override
    public void apply(FaultCall call, Firing firing) {
        BlockRequest r = call.request();
        Map<String, Object> details = new LinkedHashMap<>();
        details.put("errno", Errno.name(errno));
        details.put("errno-value", errno);
        call.record(firing, "error " + Errno.name(errno), details);
        call.fail(new DeviceException(
                errno,
                "fault rule " + firing.rule().id() + " injected " + Errno.name(errno) + " into " + r.op().wireName()
                        + (r.op() == BlockOp.FLUSH ? "" : " at offset " + r.offset()),
                r.op() == BlockOp.FLUSH ? -1 : r.offset()));
    }

    @Override
    public Map<String, Object> parameters() {
        return Map.of("errno", Errno.name(errno));
    }
}
