package dev.faultdisk.fault;

import dev.faultdisk.device.BlockRequest;
import dev.faultdisk.device.DeviceException;
import dev.faultdisk.wire.BlockOp;
import dev.faultdisk.wire.Errno;
import java.io.IOException;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The silent disk: holds the request without a reply until it is released (it then runs), failed
 * with an errno, or its timeout passes (it then fails or runs, as {@code on-timeout} says). Held
 * requests are listed and released through the engine. Each holds only its own thread.
 */
record HangFault(long timeoutNanos, boolean failOnTimeout, int errno) implements Fault {
    static final FaultType TYPE = new FaultType(
            "hang",
            "hold the request without a reply until released, failed or expired",
            BlockOp.ALL,
            BlockOp.ALL,
            HangFault::parse);

    private static HangFault parse(RuleParams p, FaultType.Context c) {
        long timeout = p.millis("timeout-ms", 0);
        boolean fail =
                p.choice("on-timeout", "fail", List.of("fail", "continue")).equals("fail");
        int errno = p.errno("errno", Errno.EIO);
        if (p.has("on-timeout") && timeout == 0) {
            throw p.error("on-timeout", "needs timeout-ms");
        }
        return new HangFault(timeout, fail, errno);
    }

    @Override
    public Stage stage() {
        return Stage.HANG;
    }

    @Override
    public void apply(FaultCall call, Firing firing) throws IOException {
        int failWith = call.engine().holds().hold(call, firing, this);
        if (failWith != 0) {
            BlockRequest r = call.request();
            call.fail(new DeviceException(
                    failWith,
                    "held request failed with " + Errno.name(failWith) + " (fault rule "
                            + firing.rule().id() + ")",
                    r.op() == BlockOp.FLUSH ? -1 : r.offset()));
        }
    }

    @Override
    public Map<String, Object> parameters() {
        Map<String, Object> m = new LinkedHashMap<>();
        if (timeoutNanos > 0) {
            m.put("timeout-ms", timeoutNanos / 1e6);
            m.put("on-timeout", failOnTimeout ? "fail" : "continue");
        }
        m.put("errno", Errno.name(errno));
        return m;
    }
}
