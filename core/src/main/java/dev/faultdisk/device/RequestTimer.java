package dev.faultdisk.device;

import dev.faultdisk.wire.BlockOp;

/**
 * Hears how long each request a frontend served took, from its arrival to its reply: what latency
 * histograms are made of. A frontend calls it on the request's own thread, so an implementation
 * must be cheap and thread-safe. An export without one reads no clock.
 */
@FunctionalInterface
public interface RequestTimer {
    void completed(BlockOp op, long nanos);
}
