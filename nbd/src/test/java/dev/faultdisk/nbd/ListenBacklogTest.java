package dev.faultdisk.nbd;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.fail;

import dev.faultdisk.export.ExportRegistry;
import dev.faultdisk.testkit.Command;
import dev.faultdisk.testkit.CommandResult;
import dev.faultdisk.testkit.Tools;
import java.net.InetSocketAddress;
import java.net.UnixDomainSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The NBD listener's backlog holds the whole connection budget, as the kernel reports it ({@code
 * ss}: a listening socket's Send-Q is its backlog), so a burst of clients connecting at once waits in the
 * accept queue rather than losing its handshakes; the kernel caps it at {@code net.core.somaxconn};
 * a small budget still gets 128.
 */
class ListenBacklogTest {
    @Test
    void tcpListenerQueuesTheWholeBudget() throws Exception {
        Tools.require("ss");
        try (NbdServer server = server(1000).start(new InetSocketAddress("127.0.0.1", 0))) {
            assertEquals(Math.min(1000, somaxconn()), tcpBacklog(server.port()));
        }
    }

    @Test
    void unixListenerQueuesTheWholeBudget(@TempDir Path dir) throws Exception {
        Tools.require("ss");
        try (NbdServer server = server(700).start(UnixDomainSocketAddress.of(dir.resolve("nbd.sock")))) {
            // bound under a private name in the directory, then moved into place: ss shows the first
            assertEquals(
                    Math.min(700, somaxconn()),
                    backlog(List.of("ss", "-lxH"), dir.toString()),
                    () -> "the backlog of " + server.address());
        }
    }

    @Test
    void aSmallBudgetStillGets128() throws Exception {
        Tools.require("ss");
        try (NbdServer server = server(4).start(new InetSocketAddress("127.0.0.1", 0))) {
            assertEquals(Math.min(128, somaxconn()), tcpBacklog(server.port()));
        }
    }

    private static NbdServer server(int maxConnections) {
        NbdServer.Options d = NbdServer.Options.defaults();
        return new NbdServer(
                new ExportRegistry(),
                new NbdServer.Options(
                        maxConnections,
                        d.maxInFlight(),
                        d.payloadBudget(),
                        d.handshakeTimeout(),
                        d.tlsMode(),
                        null,
                        null));
    }

    private static int tcpBacklog(int port) {
        return backlog(List.of("ss", "-ltnH", "sport = :" + port), ":" + port);
    }

    /**
     * The Send-Q of the one listening socket {@code ss} shows on a line containing {@code naming}:
     * the token two after LISTEN.
     */
    private static int backlog(List<String> ss, String naming) {
        CommandResult r = Command.run(Duration.ofSeconds(10), ss);
        List<String> lines = r.stdout().lines().filter(l -> l.contains(naming)).toList();
        if (r.exit() != 0 || lines.size() != 1) {
            fail("expected one listening socket from " + ss + " naming " + naming + ", got exit " + r.exit() + ":\n"
                    + r.stdout() + r.stderr());
        }
        List<String> tokens = List.of(lines.get(0).trim().split("\\s+"));
        int listen = tokens.indexOf("LISTEN");
        if (listen < 0 || listen + 2 >= tokens.size()) {
            fail("no LISTEN state in " + lines.get(0));
        }
        return Integer.parseInt(tokens.get(listen + 2));
    }

    private static int somaxconn() throws Exception {
        // Through a buffered reader: a numeric sysctl answers only a read from its start, and
        // Files.readString reads a file of no size a byte first (it got "4" of "4096")
        return Integer.parseInt(Files.readAllLines(Path.of("/proc/sys/net/core/somaxconn"))
                .get(0)
                .trim());
    }
}
