package dev.faultdisk.qmp;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.faultdisk.wire.json.Members;
import dev.faultdisk.wire.net.ControlEndpoint;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.net.UnixDomainSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.time.InstantSource;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.concurrent.ConcurrentHashMap;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The server over real TCP and Unix sockets, byte for byte. */
class QmpServerTest {
    private static final String GREETING =
            "{\"QMP\": {\"version\": {\"qemu\": {\"micro\": 0, \"minor\": 1, \"major\": 0},"
                    + " \"package\": \"faultdisk 0.1.0\"}, \"capabilities\": []}}";
    private static final String NEGOTIATE_FIRST =
            "{\"error\": {\"class\": \"CommandNotFound\", \"desc\": \"Expecting capabilities negotiation with 'qmp_capabilities'\"}}";
    /** The example of the blkdebug QMP patch of 2014, aimed at a stand-in command with the same argument shape. */
    private static final String PATCH_EXAMPLE_SHAPED = """
            {"execute": "test-set-rules", "arguments": {"device": "ide0-hd0",
            "rules":[{"event": "write_aio", "type": "inject-error", "immediately":
            1, "once": 0, "state": 1}]}}
            """;

    @TempDir
    Path dir;

    private final FakeClock clock = new FakeClock(Instant.ofEpochSecond(1258551470, 802_384_999));
    private final List<Map<String, Object>> applied = new java.util.concurrent.CopyOnWriteArrayList<>();
    private QmpServer server;
    private SocketAddress tcp;
    private SocketAddress unix;

    @BeforeEach
    void start() throws Exception {
        server = startServer(QmpServer.Options.defaults().withClock(clock));
    }

    @AfterEach
    void stop() {
        server.close();
    }

    private QmpServer startServer(QmpServer.Options options) throws Exception {
        CommandRegistry registry = new CommandRegistry();
        registry.register(QmpCommand.builder("test-set-rules")
                .doc("Stands in for a domain command: checks nested arguments as such a command would.")
                .required("device", ArgType.STRING, "device name")
                .required("rules", ArgType.LIST, "rules")
                .handler(args -> {
                    if (!args.string("device").equals("ide0-hd0")) {
                        throw QmpError.deviceNotFound(args.string("device"));
                    }
                    for (Members rule : args.objects("rules")) {
                        rule.rejectUnknown("event", "type", "immediately", "once", "state");
                        Map<String, Object> seen = new LinkedHashMap<>();
                        seen.put("event", rule.string("event"));
                        seen.put("immediately", rule.bool("immediately", false));
                        seen.put("once", rule.bool("once", false));
                        seen.put("state", rule.integer("state", 0));
                        applied.add(seen);
                    }
                    return null;
                })
                .build());
        registry.register(QmpCommand.builder("test-crash")
                .doc("Fails with a bug.")
                .handler(args -> {
                    throw new IllegalStateException("boom");
                })
                .build());
        QmpServer started = new QmpServer(registry, options);
        tcp = started.listen(new InetSocketAddress("127.0.0.1", 0));
        unix = started.listen(UnixDomainSocketAddress.of(dir.resolve("qmp.sock")));
        return started;
    }

    @Test
    void greetsNegotiatesAndAnswersQueries() throws Exception {
        try (TestClient client = TestClient.connect(tcp)) {
            assertEquals(GREETING, client.line());
            assertReplies(client, new String[][] {
                {"{\"execute\": \"query-version\"}", NEGOTIATE_FIRST},
                {"{\"execute\": \"no-such-command\"}", NEGOTIATE_FIRST},
                {"{ \"execute\": \"qmp_capabilities\" }", "{\"return\": {}}"},
                {
                    "{\"execute\": \"qmp_capabilities\"}",
                    "{\"error\": {\"class\": \"CommandNotFound\", \"desc\": \"Capabilities negotiation is already complete, command ignored\"}}"
                },
                {
                    "{\"execute\": \"query-version\"}",
                    "{\"return\": {\"qemu\": {\"micro\": 0, \"minor\": 1, \"major\": 0}, \"package\": \"faultdisk 0.1.0\"}}"
                },
                {
                    "{\"execute\": \"query-commands\"}",
                    "{\"return\": [{\"name\": \"qmp_capabilities\"}, {\"name\": \"query-version\"},"
                            + " {\"name\": \"query-commands\"}, {\"name\": \"test-set-rules\"}, {\"name\": \"test-crash\"}]}"
                },
            });
        }
    }

    @Test
    void theSeedsExampleWorksVerbatimAgainstAStandIn() throws Exception {
        try (TestClient client = TestClient.connect(tcp)) {
            assertEquals(GREETING, client.line());
            client.send("{ \"execute\": \"qmp_capabilities\" }\n" + PATCH_EXAMPLE_SHAPED);
            assertEquals("{\"return\": {}}", client.line());
            assertEquals("{\"return\": {}}", client.line());
            assertEquals(
                    List.of(Map.of("event", "write_aio", "immediately", true, "once", false, "state", 1L)), applied);
        }
    }

    @Test
    void negotiationErrorsBeforeCapabilities() throws Exception {
        try (TestClient client = TestClient.connect(unix)) {
            assertEquals(GREETING, client.line());
            // Only CommandNotFound gets the negotiation hint; other errors keep their text.
            assertReplies(client, new String[][] {
                {
                    "{\"execute\": \"query-version\", \"foo\": 1, \"id\": 1}",
                    "{\"id\": 1, \"error\": {\"class\": \"GenericError\", \"desc\": \"QMP input member 'foo' is unexpected\"}}"
                },
                {"]", generic("JSON parse error, expecting value")},
                {
                    "{\"execute\": \"test-set-rules\", \"id\": \"x\"}",
                    "{\"id\": \"x\", \"error\": {\"class\": \"CommandNotFound\", \"desc\": \"Expecting capabilities negotiation with 'qmp_capabilities'\"}}"
                },
                {
                    "{\"execute\": \"qmp_capabilities\", \"arguments\": {\"enable\": [\"oob\"]}}",
                    generic("Capability oob not available")
                },
                {
                    "{\"execute\": \"qmp_capabilities\", \"arguments\": {\"enable\": [\"fast\"]}}",
                    generic("Parameter 'enable[0]' does not accept value 'fast'")
                },
                {"{\"execute\": \"qmp_capabilities\", \"arguments\": {\"enable\": []}}", "{\"return\": {}}"},
            });
        }
    }

    @Test
    void badInputGetsQemusErrorsAndTheConnectionStaysUsable() throws Exception {
        String[][] cases = {
            {"[1, 2]", generic("QMP input must be a JSON object")},
            {"\"execute\"", generic("QMP input must be a JSON object")},
            {"{\"arguments\": {}}", generic("QMP input lacks member 'execute'")},
            {"{}", generic("QMP input lacks member 'execute'")},
            {"{\"execute\": 1}", generic("QMP input member 'execute' must be a string")},
            {
                "{\"execute\": \"query-version\", \"arguments\": [1]}",
                generic("QMP input member 'arguments' must be an object")
            },
            {
                "{\"execute\": \"query-version\", \"arguments\": null}",
                generic("QMP input member 'arguments' must be an object")
            },
            {"{\"execute\": \"query-version\", \"extra\": true}", generic("QMP input member 'extra' is unexpected")},
            {"{\"exec-oob\": \"query-version\"}", generic("QMP input member 'exec-oob' is unexpected")},
            {
                "{\"execute\": \"nope\"}",
                "{\"error\": {\"class\": \"CommandNotFound\", \"desc\": \"The command nope has not been found\"}}"
            },
            {
                "{\"execute\": \"query-verison\"}",
                "{\"error\": {\"class\": \"CommandNotFound\", \"desc\": \"The command query-verison has not been found"
                        + " (did you mean query-version?)\"}}"
            },
            {
                "{\"execute\": \"query-version\", \"arguments\": {\"verbose\": true}}",
                generic("Parameter 'verbose' is unexpected")
            },
            {
                "{\"execute\": \"test-set-rules\", \"arguments\": {\"device\": \"ide0-hd0\"}}",
                generic("Parameter 'rules' is missing")
            },
            {
                "{\"execute\": \"test-set-rules\", \"arguments\": {\"device\": 5, \"rules\": []}}",
                generic("Invalid parameter type for 'device', expected: string")
            },
            {
                "{\"execute\": \"test-set-rules\", \"arguments\": {\"device\": \"ide0-hd0\", \"rules\": {}}}",
                generic("Invalid parameter type for 'rules', expected: array")
            },
            {
                "{\"execute\": \"test-set-rules\", \"arguments\": {\"device\": \"ide0-hd0\", \"rules\": [], \"x\": 1}}",
                generic("Parameter 'x' is unexpected")
            },
            {
                "{\"execute\": \"test-set-rules\", \"arguments\": {\"device\": \"ide0-hd0\", \"rules\": [{\"event\": \"x\", \"immediately\": 2}]}}",
                generic("Invalid parameter type for 'rules[0].immediately', expected: boolean")
            },
            {
                "{\"execute\": \"test-set-rules\", \"arguments\": {\"device\": \"ide0-hd0\", \"rules\": [{\"event\": \"x\", \"evnet\": 1}]}}",
                generic("Parameter 'rules[0].evnet' is unexpected")
            },
            {
                "{\"execute\": \"test-set-rules\", \"arguments\": {\"device\": \"ide9\", \"rules\": []}}",
                "{\"error\": {\"class\": \"DeviceNotFound\", \"desc\": \"Device 'ide9' not found\"}}"
            },
            {"{\"execute\": \"test-crash\"}", generic("Internal error: java.lang.IllegalStateException: boom")},
            {"{\"execute\" \"query-version\"}", generic("JSON parse error, missing : in object pair")},
            {"{\"execute\": \"query-version\",}", generic("JSON parse error, expecting value")},
            {"{'execute': 'query-version', 'execute': 'x'}", generic("JSON parse error, duplicate key")},
            {"{\"execute\": tru}", generic("JSON parse error, invalid keyword 'tru'")},
            {"{\"execute\": \"\\q\"}", generic("JSON parse error, invalid escape sequence in string")},
            {"\u0001", generic("JSON parse error, stray '\\u0001'")},
            {"[".repeat(1025), generic("JSON nesting depth limit exceeded (at most 1024 open objects and arrays)")},
        };
        try (TestClient client = TestClient.connect(tcp)) {
            client.negotiate();
            for (String[] c : cases) {
                assertEquals(c[1], client.command(c[0]), c[0]);
                assertEquals(
                        "{\"return\": {}, \"id\": \"still-usable\"}",
                        client.command(
                                "{\"execute\": \"test-set-rules\", \"arguments\": {\"device\": \"ide0-hd0\", \"rules\": []},"
                                        + " \"id\": \"still-usable\"}"),
                        "after " + c[0]);
            }
            // Raw garbage bytes, then resynchronisation on the next structural character.
            client.send(new byte[] {(byte) 0xFF, 'x', 'y', 'z'});
            assertEquals(generic("JSON parse error, stray '\\uFFFD'"), client.line());
            assertEquals(
                    "{\"return\": {}}",
                    client.command(
                            "{\"execute\": \"test-set-rules\", \"arguments\": {\"device\": \"ide0-hd0\", \"rules\": []}}"));
            // Inside an unfinished object: the control character ends it, a new command follows.
            client.send("{\"execute\": \"query-version\", \"id\": \"lost");
            assertEquals(generic("JSON parse error, stray '\"lost\\u0001'"), client.command("\u0001"));
            assertEquals(
                    "{\"return\": {}, \"id\": 2}",
                    client.command("{\"execute\": \"test-set-rules\", "
                            + "\"arguments\": {\"device\": \"ide0-hd0\", \"rules\": []}, \"id\": 2}"));
            assertEquals(1, server.sessionCount());
        }
    }

    @Test
    void idsAreEchoedAsSent() throws Exception {
        try (TestClient client = TestClient.connect(tcp)) {
            client.negotiate();
            String ok =
                    "{\"execute\": \"test-set-rules\", \"arguments\": {\"device\": \"ide0-hd0\", \"rules\": []}, \"id\": ";
            for (String id : List.of(
                    "\"__qmp#00000\"",
                    "42",
                    "-7",
                    "1.5",
                    "null",
                    "true",
                    "{\"a\": [1, \"b\", {}]}",
                    "[]",
                    "\"caf\\u00E9\"")) {
                assertEquals("{\"return\": {}, \"id\": " + id + "}", client.command(ok + id + "}"), id);
                assertEquals(
                        "{\"id\": " + id
                                + ", \"error\": {\"class\": \"CommandNotFound\", \"desc\": \"The command nope has not been found\"}}",
                        client.command("{\"id\": " + id + ", \"execute\": \"nope\"}"),
                        id);
            }
            assertEquals(
                    "{\"return\": {}, \"id\": \"single\"}",
                    client.command(
                            "{'execute': 'test-set-rules', 'arguments': {'device': 'ide0-hd0', 'rules': []}, 'id': 'single'}"));
            // A parse error happens before any id is known.
            assertEquals(generic("JSON parse error, missing : in object pair"), client.command("{\"id\" 5}"));
        }
    }

    @Test
    void fragmentedInputAtEverySplitPointOverTheSocket() throws Exception {
        byte[] stream =
                ("{\"execute\":\"test-set-rules\",\"arguments\":{'device':'ide0-hd0','rules':[{'event':'read_aio','once':1}]},\"id\":1}"
                                + "{\"execute\":\"query-version\",\"id\":2}")
                        .getBytes(StandardCharsets.UTF_8);
        String version = "{\"qemu\": {\"micro\": 0, \"minor\": 1, \"major\": 0}, \"package\": \"faultdisk 0.1.0\"}";
        try (TestClient client = TestClient.connect(unix)) {
            client.negotiate();
            for (int split = 0; split <= stream.length; split++) {
                client.send(java.util.Arrays.copyOfRange(stream, 0, split));
                client.send(java.util.Arrays.copyOfRange(stream, split, stream.length));
                assertEquals("{\"return\": {}, \"id\": 1}", client.line(), "split at " + split);
                assertEquals("{\"return\": " + version + ", \"id\": 2}", client.line(), "split at " + split);
            }
            long seed = 7;
            SplittableRandom random = new SplittableRandom(seed);
            for (int round = 0; round < 20; round++) {
                int pos = 0;
                while (pos < stream.length) {
                    int n = Math.min(stream.length - pos, random.nextInt(1, 12));
                    client.send(java.util.Arrays.copyOfRange(stream, pos, pos + n));
                    pos += n;
                }
                assertEquals("{\"return\": {}, \"id\": 1}", client.line(), "seed " + seed + " round " + round);
                assertEquals(
                        "{\"return\": " + version + ", \"id\": 2}", client.line(), "seed " + seed + " round " + round);
            }
        }
        assertEquals(stream.length + 1 + 20, applied.size());
    }

    @Test
    void twoClientsOverTcpAndUnixAtOnce() throws Exception {
        try (TestClient a = TestClient.connect(tcp);
                TestClient b = TestClient.connect(unix)) {
            negotiateOnlyTheFirst(a, b);
            // A is half-way through a command while B negotiates and works.
            a.send("{\"execute\": \"query-ver");
            assertEquals("{\"return\": {}}", b.command("{\"execute\": \"qmp_capabilities\"}"));
            b.send("\u0002garbage");
            assertEquals(generic("JSON parse error, stray '\\u0002'"), b.line());
            a.send("sion\", \"id\": \"a\"}");
            assertTrue(a.line().endsWith("\"id\": \"a\"}"));
            assertEquals(
                    "{\"return\": {}, \"id\": \"b\"}",
                    b.command("{\"execute\": \"test-set-rules\", "
                            + "\"arguments\": {\"device\": \"ide0-hd0\", \"rules\": []}, \"id\": \"b\"}"));
            assertEquals(2, server.sessionCount());
        }
    }

    @Test
    void eventsGoOnlyToNegotiatedSessionsWithTimestampsFromTheClock() throws Exception {
        try (TestClient a = TestClient.connect(tcp);
                TestClient b = TestClient.connect(unix)) {
            negotiateOnlyTheFirst(a, b);
            server.emit("POWERDOWN", null);
            assertEquals(
                    "{\"timestamp\": {\"seconds\": 1258551470, \"microseconds\": 802384}, \"event\": \"POWERDOWN\"}",
                    a.line());

            assertEquals("{\"return\": {}}", b.command("{\"execute\": \"qmp_capabilities\"}"));
            clock.set(Instant.ofEpochSecond(1265044230, 450_486_000));
            Map<String, Object> data = new LinkedHashMap<>();
            data.put("device", "ide0-hd1");
            data.put("operation", "write");
            data.put("action", "report");
            server.emit("BLOCK_IO_ERROR", data);
            String expected =
                    "{\"timestamp\": {\"seconds\": 1265044230, \"microseconds\": 450486}, \"event\": \"BLOCK_IO_ERROR\","
                            + " \"data\": {\"device\": \"ide0-hd1\", \"operation\": \"write\", \"action\": \"report\"}}";
            assertEquals(expected, a.line());
            assertEquals(expected, b.line()); // B never saw POWERDOWN: it was not negotiated then
        }
    }

    @Test
    void sessionsPastThePlatformThreadBudgetsGetVirtualThreadsAndEveryReplyAndEvent() throws Exception {
        int sessions = Math.max(QmpServer.PLATFORM_WRITERS, QmpServer.PLATFORM_READERS) + 2;
        Set<String> setUp = ConcurrentHashMap.newKeySet();
        server.close();
        server = startServer(QmpServer.Options.defaults()
                .withClock(clock)
                .withEndpoint(ControlEndpoint.defaults().withMaxSessions(sessions))
                .withThreadSetup(() -> setUp.add(Thread.currentThread().getName()
                        + (Thread.currentThread().isVirtual() ? " (virtual)" : ""))));
        List<TestClient> clients = new ArrayList<>();
        try {
            for (int i = 0; i < sessions; i++) {
                TestClient client = TestClient.connect(i % 2 == 0 ? tcp : unix);
                clients.add(client);
                client.line(); // the greeting: the session and its writer have started
                assertEquals("{\"return\": {}}", client.command("{\"execute\": \"qmp_capabilities\"}"));
            }
            assertEquals(QmpServer.PLATFORM_WRITERS, server.platformWritersInUse());
            assertEquals(QmpServer.PLATFORM_READERS, server.platformReadersInUse());
            assertEquals(QmpServer.PLATFORM_READERS + QmpServer.PLATFORM_WRITERS, setUp.size(), "set up: " + setUp);
            assertTrue(setUp.stream().allMatch(name -> name.matches("qmp-\\d+-(in|out)")), setUp.toString());
            server.emit("POWERDOWN", null);
            for (TestClient client : clients) {
                assertTrue(client.line().endsWith("\"event\": \"POWERDOWN\"}"));
                assertTrue(client.command("{\"execute\": \"query-version\"}").startsWith("{\"return\": {\"qemu\""));
            }
            clients.removeFirst().close(); // a platform reader and writer end with their session
            await().atMost(Duration.ofSeconds(10))
                    .until(() -> server.platformWritersInUse() == QmpServer.PLATFORM_WRITERS - 1
                            && server.platformReadersInUse() == QmpServer.PLATFORM_READERS - 1);
        } finally {
            for (TestClient client : clients) {
                client.close();
            }
        }
        await().atMost(Duration.ofSeconds(10))
                .until(() -> server.platformWritersInUse() == 0 && server.platformReadersInUse() == 0);
    }

    @Test
    void aSessionRunsOnWhenItsThreadsSetUpFails() throws Exception {
        server.close();
        server = startServer(QmpServer.Options.defaults().withClock(clock).withThreadSetup(() -> {
            throw new IllegalStateException("no scheduling here");
        }));
        try (TestClient client = TestClient.connect(tcp)) {
            client.negotiate();
            assertTrue(client.command("{\"execute\": \"query-version\"}").startsWith("{\"return\": {\"qemu\""));
        }
    }

    @Test
    void repliesWrittenByTheReaderAndAFloodOfEventsFromTheWriterComeWholeAndInOrder() throws Exception {
        int commands = 2_000;
        int events = 5_000;
        try (TestClient client = TestClient.connect(unix)) {
            client.negotiate();
            Thread emitter = Thread.ofPlatform().start(() -> {
                for (int i = 0; i < events; i++) {
                    server.emit("TEST_EVENT", numbered(i, "y".repeat(i % 300)));
                }
            });
            StringBuilder pipelined = new StringBuilder();
            for (int i = 0; i < commands; i++) {
                pipelined
                        .append("{\"execute\": \"query-version\", \"id\": ")
                        .append(i)
                        .append('}');
                if (i % 50 == 49) { // in bursts, so replies meet both an empty queue and a busy writer
                    client.send(pipelined.toString());
                    pipelined.setLength(0);
                }
            }
            int reply = 0;
            int event = 0;
            while (reply < commands || event < events) {
                String line = client.line();
                if (line.contains("\"event\": \"EVENTS_DROPPED\"")) { // the client fell behind: counted
                    event += Integer.parseInt(line.replaceAll(".*\"count\": (\\d+).*", "$1"));
                } else if (line.startsWith("{\"timestamp\"")) {
                    assertTrue(line.contains("\"n\": " + event + ","), "event " + event + ": " + line);
                    assertTrue(line.contains("\"event\": \"TEST_EVENT\", \"data\": {"), line);
                    assertTrue(line.endsWith("\"}}"), line);
                    event++;
                } else {
                    assertTrue(line.startsWith("{\"return\": {\"qemu\""), line);
                    assertTrue(line.endsWith("\"id\": " + reply + "}"), "reply " + reply + ": " + line);
                    reply++;
                }
            }
            emitter.join();
        }
    }

    @Test
    void aClientThatNeverReadsDoesNotBlockEventsToAnotherAndIsClosedWhenItStalls() throws Exception {
        server.close();
        server = startServer(QmpServer.Options.defaults()
                .withClock(clock)
                .withMaxQueuedBytes(32 * 1024)
                .withStallTimeout(Duration.ofSeconds(10)));
        try (TestClient silent = TestClient.connectSilent(unix);
                TestClient reader = TestClient.connect(tcp)) {
            silent.send("{\"execute\": \"qmp_capabilities\"}");
            reader.negotiate();
            // Both sessions (the server may not have accepted the silent one yet) and both negotiated.
            await("both sessions accepted and negotiated")
                    .atMost(Duration.ofSeconds(10))
                    .until(() -> server.sessionCount() == 2
                            && server.sessions().stream().allMatch(QmpSession::isNegotiated));
            QmpSession silentSession = server.sessions().stream()
                    .filter(s -> s.remoteAddress().startsWith("unix:"))
                    .findFirst()
                    .orElseThrow();
            assertTimeoutPreemptively(Duration.ofSeconds(30), () -> {
                int sent = 0;
                // The silent client's socket buffers and queue fill up and its events are dropped;
                // meanwhile the reading client gets every event, in order.
                while (silentSession.eventsDropped() == 0 && sent < 20_000) {
                    sent = emitAndRead(reader, sent, 16);
                    letDrain(silentSession);
                }
                assertTrue(silentSession.eventsDropped() > 0, "nothing dropped after " + sent + " events");
                assertTrue(sent > 32, "dropped too early: " + sent);
                // Dropping is no reason to close a session: only reading nothing for the stall timeout is.
                sent = emitAndRead(reader, sent, 16);
                assertTrue(silentSession.isOpen(), "closed before its stall timeout");
                clock.set(clock.instant().plusSeconds(9));
                sent = emitAndRead(reader, sent, 16);
                assertTrue(silentSession.isOpen(), "closed before its stall timeout");
                clock.set(clock.instant().plusSeconds(1));
                emitAndRead(reader, sent, 1);
                assertFalse(silentSession.isOpen(), "still open after reading nothing for 10 s of dropped events");
                assertEquals(1, server.sessionCount());
            });
            assertEquals(
                    "{\"return\": {}}",
                    reader.command("{\"execute\": \"test-set-rules\", "
                            + "\"arguments\": {\"device\": \"ide0-hd0\", \"rules\": []}}"));
        }
    }

    @Test
    void aClientThatFallsBehindLosesEventsAndIsToldHowMany() throws Exception {
        server.close();
        server = startServer(QmpServer.Options.defaults().withClock(clock).withMaxQueuedBytes(32 * 1024));
        String padding = "x".repeat(1000);
        try (TestClient slow = TestClient.connectPaused(unix)) {
            slow.send("{\"execute\": \"qmp_capabilities\"}");
            await("negotiated")
                    .atMost(Duration.ofSeconds(10))
                    .until(() -> server.sessions().stream().anyMatch(QmpSession::isNegotiated));
            QmpSession session = server.sessions().iterator().next();
            int total = 0;
            // The client reads nothing meanwhile: its socket buffers and then its queue fill up.
            while (session.eventsDropped() < 100 && total < 20_000) {
                int burst = session.eventsDropped() > 0 ? 128 : 16;
                for (int i = 0; i < burst; i++) {
                    server.emit("TEST_EVENT", numbered(total++, padding));
                }
                letDrain(session);
            }
            assertTrue(session.eventsDropped() >= 100, "nothing dropped after " + total + " events");
            long dropped = session.eventsDropped();
            // Now it reads: the events it got are in order, each gap is announced before the events
            // after it with the exact count, and the session goes on.
            for (int i = 0; i < 5; i++) {
                server.emit("TEST_EVENT", numbered(total++, padding));
            }
            slow.resume();
            assertEquals(GREETING, slow.line());
            assertEquals("{\"return\": {}}", slow.line());
            long expected = 0;
            long noticed = 0;
            int notices = 0;
            while (expected < total) {
                String line = slow.line();
                if (line.contains("\"event\": \"EVENTS_DROPPED\"")) {
                    assertTrue(line.startsWith("{\"timestamp\": {\"seconds\": "), line);
                    long count = Long.parseLong(line.replaceAll(".*\"count\": (\\d+).*", "$1"));
                    assertTrue(count > 0, line);
                    expected += count;
                    noticed += count;
                    notices++;
                } else {
                    assertTrue(line.contains("\"n\": " + expected + ","), "expected event " + expected + ": " + line);
                    expected++;
                }
            }
            assertEquals(total, expected);
            assertTrue(notices >= 1, "no notice");
            assertEquals(session.eventsDropped(), noticed, "every dropped event was announced");
            assertEquals(noticed, server.eventsDropped(), "the server's count");
            assertTrue(noticed >= dropped, noticed + " announced, " + dropped + " dropped before reading");
            assertTrue(session.isOpen());
            assertEquals(
                    "{\"return\": {}}",
                    slow.command("{\"execute\": \"test-set-rules\", "
                            + "\"arguments\": {\"device\": \"ide0-hd0\", \"rules\": []}}"));
        }
    }

    private static Map<String, Object> numbered(long n, String padding) {
        Map<String, Object> data = new LinkedHashMap<>();
        data.put("n", n);
        data.put("padding", padding);
        return data;
    }

    /** Emits {@code count} padded events numbered from {@code first}; the reader must get each, in order. */
    private int emitAndRead(TestClient reader, int first, int count) throws Exception {
        String padding = "x".repeat(1000);
        for (int i = first; i < first + count; i++) {
            server.emit("TEST_EVENT", numbered(i, padding));
        }
        for (int i = first; i < first + count; i++) {
            String line = reader.line();
            assertTrue(line.contains("\"n\": " + i + ","), "event " + i + ": " + line);
        }
        return first + count;
    }

    @Test
    void aClientThatClosesItsSideStillGetsItsReplies() throws Exception {
        try (TestClient client = TestClient.connect(tcp)) {
            client.send("{\"execute\": \"qmp_capabilities\"}{\"execute\": \"query-commands\", \"id\": 1}");
            client.shutdownOutput();
            assertEquals(GREETING, client.line());
            assertEquals("{\"return\": {}}", client.line());
            assertTrue(client.line().endsWith("\"id\": 1}"));
            client.awaitEndOfStream();
        }
        await("every session closed").atMost(Duration.ofSeconds(10)).until(() -> server.sessionCount() == 0);
    }

    @Test
    void closingTheServerEndsSessionsAndRemovesTheSocketFile() throws Exception {
        Path socket = ((UnixDomainSocketAddress) unix).getPath();
        assertTrue(Files.exists(socket));
        try (TestClient client = TestClient.connect(unix)) {
            assertEquals(GREETING, client.line());
            server.close();
            client.awaitEndOfStream();
        }
        assertFalse(Files.exists(socket));
        assertEquals(0, server.sessionCount());
    }

    /** A completes negotiation; B has its greeting and stays before capabilities negotiation. */
    private static void negotiateOnlyTheFirst(TestClient a, TestClient b) throws Exception {
        a.negotiate();
        assertEquals(GREETING, b.line());
    }

    /** Sends each command in turn and checks the reply to it: rows of {command, reply}. */
    private static void assertReplies(TestClient client, String[][] commandsAndReplies) throws Exception {
        for (String[] c : commandsAndReplies) {
            assertEquals(c[1], client.command(c[0]), c[0]);
        }
    }

    private static String generic(String desc) {
        return "{\"error\": {\"class\": \"GenericError\", \"desc\": \"" + desc.replace("\"", "\\\"") + "\"}}";
    }

    /**
     * Gives a session's writer time to move its queue into the socket: until the queue is empty,
     * or it has not shrunk for 250 ms (the socket is full), or 2 s have passed. On a loaded
     * machine the writer may not have run yet, and the drop under test is for a client whose
     * socket is full, not for a writer that was not scheduled.
     */
    private static void letDrain(QmpSession session) throws InterruptedException {
        long start = System.nanoTime();
        long lastProgress = start;
        long queued = session.queuedBytes();
        while (session.isOpen() && queued > 0) {
            long now = System.nanoTime();
            if (now - lastProgress > 250_000_000L || now - start > 2_000_000_000L) {
                return;
            }
            Thread.sleep(5);
            long left = session.queuedBytes();
            if (left < queued) {
                lastProgress = System.nanoTime();
            }
            queued = left;
        }
    }

    /** A clock the test sets by hand. */
    static final class FakeClock implements InstantSource {
        private volatile Instant now;

        FakeClock(Instant now) {
            this.now = now;
        }

        void set(Instant now) {
            this.now = now;
        }

        @Override
        public Instant instant() {
            return now;
        }
    }
}
