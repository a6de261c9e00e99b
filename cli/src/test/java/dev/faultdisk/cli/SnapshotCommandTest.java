package dev.faultdisk.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.faultdisk.server.FaultdiskServer;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

/** faultdisk snapshot create|revert|delete|list and faultdisk reset against a server. */
class SnapshotCommandTest {
    private FaultdiskServer server;
    private String qmp;

    @BeforeEach
    void start() throws Exception {
        server = FaultdiskServer.builder()
                .export("disk0=memory:4M,cache=writeback")
                .nbd(new InetSocketAddress("127.0.0.1", 0))
                .qmp(new InetSocketAddress("127.0.0.1", 0))
                .start();
        InetSocketAddress a = (InetSocketAddress) server.qmpAddresses().getFirst();
        qmp = "127.0.0.1:" + a.getPort();
    }

    @AfterEach
    void stop() throws Exception {
        server.close();
    }

    /** Runs the CLI; returns exit code and output as "CODE\nOUT\nERR". */
    private String run(String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        CommandLine cl = Main.commandLine();
        cl.setOut(new PrintWriter(out));
        cl.setErr(new PrintWriter(err));
        List<String> all = new ArrayList<>(List.of(args));
        all.add("--qmp");
        all.add(qmp);
        int code = cl.execute(all.toArray(String[]::new));
        return code + "\n" + out + err;
    }

    @Test
    void snapshotsAndResetFromTheCommandLine() {
        String created = run("snapshot", "create", "disk0", "clean");
        assertTrue(created.startsWith("0\ndisk0: snapshot clean taken at "), created);
        String list = run("snapshot", "list");
        assertTrue(list.startsWith("0\nEXPORT"), list);
        assertTrue(list.contains("clean"), list);
        assertEquals(
                "0\ndisk0: reverted to clean (0 B dropped, 0 B of dirty cache in 0 ranges dropped)\n",
                run("snapshot", "revert", "disk0", "clean"));
        String reset = run("reset", "disk0", "--snapshot", "clean");
        assertTrue(reset.startsWith("0\nEXPORT"), reset);
        assertTrue(reset.contains("clean (0 B)") && reset.endsWith("0 trigger(s) removed\n"), reset);
        assertTrue(run("reset", "--json").contains("\"device\": \"disk0\""));

        String missing = run("snapshot", "revert", "disk0", "nope");
        assertTrue(missing.contains("export 'disk0' has no snapshot 'nope' (it has: clean)"), missing);
        assertEquals("0\ndisk0: snapshot clean deleted\n", run("snapshot", "delete", "disk0", "clean"));
    }

    @Test
    void exportAddFromASnapshotClonesIt() {
        run("snapshot", "create", "disk0", "v1:base");
        String added = run("export", "add", "try", "--from", "disk0:v1:base");
        assertTrue(added.startsWith("0\ntry: added, 4 MiB, clone of disk0@v1:base"), added);
        assertTrue(server.exports().find("try").isPresent());
        String taken = run("export", "remove", "disk0");
        assertTrue(taken.contains("export 'disk0' has clones"), taken);
        String unknown = run("export", "add", "x", "--from", "disk0:nope");
        assertTrue(unknown.contains("export 'disk0' has no snapshot 'nope'"), unknown);
        String both = run("export", "add", "x", "memory:1M", "--from", "disk0:v1:base");
        assertTrue(both.startsWith("2\n") && both.contains("give SPEC or --from ORIGIN:SNAPSHOT, not both"), both);
        String bad = run("export", "add", "x", "--from", "disk0");
        assertTrue(bad.contains("--from: expected ORIGIN:SNAPSHOT, got 'disk0'"), bad);
    }
}
