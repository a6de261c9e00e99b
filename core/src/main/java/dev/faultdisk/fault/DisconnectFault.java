package dev.faultdisk.fault;

import dev.faultdisk.device.DisconnectException;
import dev.faultdisk.wire.BlockOp;
import java.util.Map;

/**
 * Drops the client's connection: before the request runs, or with {@code mid-reply} after it ran
 * and part of its reply went out. In-process callers see EIO.
 */
record DisconnectFault(boolean midReply) implements Fault {
    static final FaultType TYPE = new FaultType(
            "disconnect",
            "drop the connection, before the request runs or in the middle of its reply",
            BlockOp.ALL,
            BlockOp.ALL,
            (p, c) -> new DisconnectFault(p.bool("mid-reply", false)));

    @Override
    public Stage stage() {
        return midReply ? Stage.DISCONNECT_MID_REPLY : Stage.DISCONNECT;
    }

    @Override
    public void apply(FaultCall call, Firing firing) {
        if (!midReply) {
            call.record(firing, "disconnected", Map.of("mid-reply", false));
            call.fail(new DisconnectException("fault rule " + firing.rule().id() + " dropped the connection", false));
            return;
        }
        call.afterIo(c -> {
            c.record(firing, "disconnected mid-reply", Map.of("mid-reply", true));
            c.failAfterIo(new DisconnectException(
                    "fault rule " + firing.rule().id() + " dropped the connection in the middle of the reply", true));
        });
    }

    @Override
    public Map<String, Object> parameters() {
        return Map.of("mid-reply", midReply);
    }
}
