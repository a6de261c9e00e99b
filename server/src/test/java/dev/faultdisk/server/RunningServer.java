package dev.faultdisk.server;

import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.faultdisk.client.FaultdiskClient;
import dev.faultdisk.client.QmpException;
import dev.faultdisk.device.BlockRequest;
import dev.faultdisk.export.Export;
import dev.faultdisk.wire.BlockOp;
import dev.faultdisk.wire.json.Json;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.function.UnaryOperator;
import org.junit.jupiter.api.extension.AfterEachCallback;
import org.junit.jupiter.api.extension.BeforeEachCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * A whole server per test on free loopback ports, with the real client attached, for the command
 * tests ({@code @RegisterExtension final RunningServer fd = new RunningServer(b -> b.export(...))}).
 * This module sits below the {@code @Faultdisk} extension, so it has this small one of its own.
 * Commands are written as the QMP JSON a client sends, since the exact arguments (and exact
 * mistakes in them) are what these tests are about; the client carries them.
 */
final class RunningServer implements BeforeEachCallback, AfterEachCallback {
    static final Duration WAIT = Duration.ofSeconds(10);
    private final UnaryOperator<FaultdiskServer.Builder> setup;
    FaultdiskServer server;
    FaultdiskClient client;

    /** A server as {@code setup} builds it (exports, journal, seed), with NBD and QMP on loopback. */
    RunningServer(UnaryOperator<FaultdiskServer.Builder> setup) {
        this.setup = setup;
    }

    @Override
    public void beforeEach(ExtensionContext context) throws IOException {
        server = setup.apply(FaultdiskServer.builder()
                        .nbd(new InetSocketAddress("127.0.0.1", 0))
                        .qmp(new InetSocketAddress("127.0.0.1", 0)))
                .start();
        client = FaultdiskClient.connect(server.qmpAddresses().getFirst(), WAIT);
    }

    @Override
    public void afterEach(ExtensionContext context) throws IOException {
        close();
    }

    /** The connected client. */
    FaultdiskClient client() {
        return client;
    }

    Export export(String name) {
        return server.exports().find(name).orElseThrow();
    }

    /** Writes {@code data} at {@code offset} of an export, as an in-process caller. */
    void write(String export, long offset, byte[] data) throws IOException {
        export(export).device().write(BlockRequest.of(BlockOp.WRITE, offset, data.length), ByteBuffer.wrap(data));
    }

    /** The {@code length} bytes at {@code offset} of an export, as an in-process caller reads them. */
    byte[] read(String export, long offset, int length) throws IOException {
        ByteBuffer b = ByteBuffer.allocate(length);
        export(export).device().read(BlockRequest.of(BlockOp.READ, offset, length), b);
        return b.array();
    }

    /** {@code length} bytes, each {@code value}. */
    static byte[] filled(int length, int value) {
        byte[] b = new byte[length];
        Arrays.fill(b, (byte) value);
        return b;
    }

    /** Runs {@code {"execute": ..., "arguments": ...}} and returns its "return" value; a refusal throws {@link QmpException}. */
    @SuppressWarnings("unchecked")
    Object execute(String json) {
        Map<String, Object> command = (Map<String, Object>) Json.parse(json);
        Map<String, Object> arguments = (Map<String, Object>) command.getOrDefault("arguments", Map.of());
        return client.execute((String) command.get("execute"), arguments);
    }

    /** {@link #execute} for a command that returns an object. */
    @SuppressWarnings("unchecked")
    Map<String, Object> executeMap(String json) {
        return (Map<String, Object>) execute(json);
    }

    /** {@link #execute} for a command that returns a list of objects. */
    @SuppressWarnings("unchecked")
    List<Map<String, Object>> executeList(String json) {
        return (List<Map<String, Object>>) execute(json);
    }

    /** The refusal of a command that must be refused, as "ErrorClass: desc". */
    String error(String json) {
        QmpException e = assertThrows(QmpException.class, () -> execute(json), json);
        return e.errorClass() + ": " + e.desc();
    }

    /** The data of the next event named {@code name}, queued or yet to come. */
    Map<String, Object> awaitEvent(String name) {
        return client.awaitEvent(name, WAIT).data();
    }

    /** Stops the client and the server (a test may do so early, e.g. to read what closing writes). */
    void close() throws IOException {
        if (server == null) {
            return;
        }
        try {
            client.close();
        } finally {
            server.close();
            server = null;
        }
    }
}
