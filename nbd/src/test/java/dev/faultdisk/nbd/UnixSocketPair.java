package dev.faultdisk.nbd;

import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.file.Files;
import java.nio.file.Path;

/** Both ends of a real Unix socket connection, blocking: a client's and the server's accepted one. */
record UnixSocketPair(SocketChannel client, SocketChannel accepted) implements AutoCloseable {
    /** Connects through a socket file in {@code dir}, which goes once accepted. */
    static UnixSocketPair open(Path dir) throws IOException {
        UnixDomainSocketAddress address = UnixDomainSocketAddress.of(dir.resolve("pair.sock"));
        try (ServerSocketChannel server = ServerSocketChannel.open(StandardProtocolFamily.UNIX)) {
            server.bind(address);
            SocketChannel client = SocketChannel.open(address);
            return new UnixSocketPair(client, server.accept());
        } finally {
            Files.deleteIfExists(address.getPath());
        }
    }

    @Override
    public void close() throws IOException {
        try (client) {
            accepted.close();
        }
    }
}
