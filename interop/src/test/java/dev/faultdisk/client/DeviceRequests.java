package dev.faultdisk.client;

import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.faultdisk.device.BlockRequest;
import dev.faultdisk.device.DeviceException;
import dev.faultdisk.server.FaultdiskServer;
import dev.faultdisk.wire.BlockOp;
import java.nio.ByteBuffer;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

/**
 * Requests through an export's whole device stack, as the NBD server makes them, each off the
 * test's thread so the test can watch the client while a request is held.
 */
final class DeviceRequests implements AutoCloseable {
    private final FaultdiskServer server;
    private final ExecutorService io = Executors.newCachedThreadPool();

    DeviceRequests(FaultdiskServer server) {
        this.server = server;
    }

    Future<Void> write(String export, long offset, int length) {
        return io.submit(() -> {
            server.exports()
                    .find(export)
                    .orElseThrow()
                    .device()
                    .write(BlockRequest.of(BlockOp.WRITE, offset, length), ByteBuffer.allocate(length));
            return null;
        });
    }

    Future<Void> read(String export, long offset, int length) {
        return io.submit(() -> {
            server.exports()
                    .find(export)
                    .orElseThrow()
                    .device()
                    .read(BlockRequest.of(BlockOp.READ, offset, length), ByteBuffer.allocate(length));
            return null;
        });
    }

    /** For anything else a test runs off its thread. */
    ExecutorService executor() {
        return io;
    }

    /** The errno the request failed with; fails the test if it succeeded or failed otherwise. */
    static int errnoOf(Future<?> request) {
        ExecutionException e = assertThrows(ExecutionException.class, () -> request.get(10, TimeUnit.SECONDS));
        return assertInstanceOf(DeviceException.class, e.getCause()).errno();
    }

    @Override
    public void close() {
        io.shutdownNow();
    }
}
