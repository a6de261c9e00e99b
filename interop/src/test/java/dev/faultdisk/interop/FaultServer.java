package dev.faultdisk.interop;

import dev.faultdisk.export.Export;
import dev.faultdisk.fault.FaultTime;
import dev.faultdisk.server.FaultdiskServer;

import java.io.IOException;
import java.net.InetSocketAddress;

/** A whole faultdisk (NBD and QMP) in-process on free loopback ports, with a QMP client attached. */
final class FaultServer implements AutoCloseable {
    final FaultdiskServer server;
    final Qmp qmp;

    FaultServer(String export) throws IOException {
        this(export, FaultTime.system());
    }

    FaultServer(String export, FaultTime time) throws IOException {
        server = FaultdiskServer.builder().export(export).nbd(new InetSocketAddress("127.0.0.1", 0))
                .qmp(new InetSocketAddress("127.0.0.1", 0)).faultTime(time).faultSeed(1).start();
        qmp = new Qmp(server.qmpAddresses().getFirst());
    }

    String uri(String export) {
        return "nbd://127.0.0.1:" + ((InetSocketAddress) server.nbdAddress()).getPort() + "/" + export;
    }

    Export export(String name) {
        return server.exports().find(name).orElseThrow();
    }

    @Override
    public void close() throws IOException {
        try {
            qmp.close();
        } finally {
            server.close();
        }
    }
}
