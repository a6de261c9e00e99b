package dev.faultdisk.client;

import dev.faultdisk.wire.CacheMode;
import dev.faultdisk.wire.PowerFailMode;
import dev.faultdisk.wire.json.Json;
import dev.faultdisk.wire.json.Members;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.net.UnixDomainSocketAddress;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.function.Consumer;
import java.util.function.Predicate;

/**
 * A client for faultdisk's QMP control socket: typed methods for its commands, a generic
 * {@link #execute}, events, and helpers for acting at the critical moment.
 *
 * <pre>{@code
 * try (FaultdiskClient fd = FaultdiskClient.connect("127.0.0.1", 4444)) {
 *     fd.blkdebugSetRules("disk0", BlkdebugRule.injectError("write_aio").errno("ENOSPC").once());
 *     try (Breakpoint bp = fd.breakpoint("disk0", "flush_to_disk", "f")) {
 *         startTheWorkload();
 *         Suspension held = bp.awaitHit(Duration.ofSeconds(30)); // a flush is held now
 *         crashAReplica();
 *         bp.resume();
 *     }
 * }
 * }</pre>
 *
 * Thread-safe: commands may be sent from several threads. A refused command throws
 * {@link QmpException}; a lost connection {@link QmpConnectionException}; a missing reply or
 * event {@link FaultdiskTimeoutException}.
 *
 * <p>Adding a typed method for a new command is one call to {@link #execute(String, Map)} with
 * {@link #args} and, if it returns something, a record with a {@code from(Object)} factory.
 */
public final class FaultdiskClient implements AutoCloseable {
    /** Default bound for connecting and for each command's reply. */
    public static final Duration DEFAULT_TIMEOUT = Duration.ofSeconds(30);

    /** The server's notice, to this client alone, that it dropped events for it (it fell behind). */
    public static final String EVENTS_DROPPED = "EVENTS_DROPPED";

    private final QmpConnection connection;
    private final Duration timeout;

    private FaultdiskClient(QmpConnection connection, Duration timeout) {
        this.connection = connection;
        this.timeout = timeout;
    }

    /** Connects over TCP and negotiates capabilities. */
    public static FaultdiskClient connect(String host, int port) throws IOException {
        return connect(new InetSocketAddress(host, port), DEFAULT_TIMEOUT);
    }

    /** Connects to a Unix socket and negotiates capabilities. */
    public static FaultdiskClient connect(Path unixSocket) throws IOException {
        return connect(UnixDomainSocketAddress.of(unixSocket), DEFAULT_TIMEOUT);
    }

    /** Connects to {@code HOST:PORT} or {@code unix:PATH} (see {@link ControlAddress}). */
    public static FaultdiskClient connect(String address) throws IOException {
        return connect(ControlAddress.parse(address), DEFAULT_TIMEOUT);
    }

    /**
     * Connects and negotiates capabilities.
     *
     * @param timeout bound for connecting, and the default bound for each command's reply
     * @throws IOException if nothing listens there, or it does not speak QMP
     */
    public static FaultdiskClient connect(SocketAddress address, Duration timeout) throws IOException {
        return new FaultdiskClient(QmpConnection.open(address, timeout), timeout);
    }

    /**
     * Connects over TLS and/or proving the server's shared secret (docs/SECURITY.md), then
     * negotiates capabilities.
     */
    public static FaultdiskClient connect(SocketAddress address, Duration timeout, ControlSecurity security)
            throws IOException {
        return new FaultdiskClient(QmpConnection.open(address, timeout, security), timeout);
    }

    /** {@code HOST:PORT} or {@code unix:PATH} of the server. */
    public String address() {
        return connection.address();
    }

    /** The greeting's version, e.g. {@code faultdisk 0.1.0}. */
    public String serverVersion() {
        return Replies.object(connection.greeting().get("version"), "version").string("package");
    }

    /** Whether the connection is still up. */
    public boolean isOpen() {
        return connection.isOpen();
    }

    // ---- generic commands

    /** Runs a command without arguments and returns what it returns (parsed JSON; {@code {}} for nothing). */
    public Object execute(String command) {
        return execute(command, Map.of());
    }

    /**
     * Runs a command and returns what it returns (parsed JSON, see {@link Json}).
     *
     * @param arguments values {@link Json#write} accepts, e.g. strings, numbers, lists, maps, {@link BlkdebugRule}s
     * @throws QmpException if the server refuses the command
     */
    public Object execute(String command, Map<String, ?> arguments) {
        return execute(command, arguments, timeout);
    }

    /** {@link #execute(String, Map)} with its own bound on the wait for the reply. */
    public Object execute(String command, Map<String, ?> arguments, Duration replyTimeout) {
        return connection.execute(Objects.requireNonNull(command, "command"), arguments, replyTimeout);
    }

    /** Arguments from alternating names and values, skipping null values: {@code args("device", d, "tag", t)}. */
    public static Map<String, Object> args(Object... namesAndValues) {
        if (namesAndValues.length % 2 != 0) {
            throw new IllegalArgumentException("args takes names and values in pairs");
        }
        Map<String, Object> m = new LinkedHashMap<>();
        for (int i = 0; i < namesAndValues.length; i += 2) {
            if (namesAndValues[i + 1] != null) {
                m.put((String) namesAndValues[i], namesAndValues[i + 1]);
            }
        }
        return m;
    }

    // ---- typed commands

    /** query-commands: every command the server offers. */
    public List<String> queryCommands() {
        List<String> names = new ArrayList<>();
        for (Object c : Replies.list(execute("query-commands"), "query-commands reply")) {
            names.add(Replies.object(c, "command").string("name"));
        }
        return names;
    }

    /** query-events: the name of every event the server emits. */
    public List<String> queryEvents() {
        List<String> names = new ArrayList<>();
        for (Object c : Replies.list(execute("query-events"), "query-events reply")) {
            names.add(Replies.object(c, "event").string("name"));
        }
        return names;
    }

    /** query-block: every export. */
    public List<BlockInfo> queryBlock() {
        return Replies.list(execute("query-block"), "query-block reply").stream()
                .map(BlockInfo::from)
                .toList();
    }

    /**
     * The NBD URI a client on the server's host uses for {@code device} (from query-block), or
     * empty if there is no such export or the server does not say.
     */
    public Optional<String> exportUri(String device) {
        return queryBlock().stream()
                .filter(b -> b.device().equals(device) && !b.uri().isEmpty())
                .map(BlockInfo::uri)
                .findFirst();
    }

    /** query-blockstats: every export's counters. */
    public List<BlockStats> queryBlockstats() {
        return Replies.list(execute("query-blockstats"), "query-blockstats reply").stream()
                .map(BlockStats::from)
                .toList();
    }

    /** query-blockstats for one export. */
    public BlockStats queryBlockstats(String device) {
        return BlockStats.from(
                Replies.list(execute("query-blockstats", args("device", device)), "query-blockstats reply")
                        .getFirst());
    }

    /** blkdebug-set-rules: adds rules (all or, on error, none) and resets the state to 1. */
    public void blkdebugSetRules(String device, BlkdebugRule... rules) {
        blkdebugSetRules(device, List.of(rules));
    }

    public void blkdebugSetRules(String device, List<BlkdebugRule> rules) {
        execute("blkdebug-set-rules", args("device", device, "rules", rules));
    }

    /** blkdebug-clear-rules: removes every rule (breakpoints stay) and resets the state to 1. */
    public void blkdebugClearRules(String device) {
        execute("blkdebug-clear-rules", args("device", device));
    }

    /** query-blkdebug-rules: rules, state, armed rules. */
    public BlkdebugState queryBlkdebugRules(String device) {
        return BlkdebugState.from(execute("query-blkdebug-rules", args("device", device)));
    }

    /** blkdebug-set-breakpoint; see {@link #breakpoint} for a handle that also waits for the hit. */
    public void blkdebugSetBreakpoint(String device, String event, String tag) {
        execute("blkdebug-set-breakpoint", args("device", device, "event", event, "tag", tag));
    }

    /** blkdebug-resume: releases the most recently suspended request under {@code tag}. */
    public void blkdebugResume(String device, String tag) {
        execute("blkdebug-resume", args("device", device, "tag", tag));
    }

    /** blkdebug-remove-breakpoint: removes the breakpoints tagged {@code tag} and releases their requests. */
    public void blkdebugRemoveBreakpoint(String device, String tag) {
        execute("blkdebug-remove-breakpoint", args("device", device, "tag", tag));
    }

    /** query-blkdebug-breakpoints: breakpoints not yet hit and requests held now. */
    public BlkdebugBreakpoints queryBlkdebugBreakpoints(String device) {
        return BlkdebugBreakpoints.from(execute("query-blkdebug-breakpoints", args("device", device)), device);
    }

    /**
     * file-map-attach: binds {@code device} to the file system mounted from it at {@code mount}
     * (on the server's host), so rules may aim at files and faults name them.
     */
    public FileMapInfo fileMapAttach(String device, String mount) {
        return FileMapInfo.from(execute("file-map-attach", args("device", device, "mount", mount)));
    }

    /** file-map-refresh: maps the file system again and re-resolves every file target on it. */
    public FileMapInfo fileMapRefresh(String device) {
        return FileMapInfo.from(execute("file-map-refresh", args("device", device)));
    }

    /** query-file-map with a range: what holds each part of it (files, structures, unowned gaps). */
    public List<FileOwner> fileOwners(String device, long offset, long length) {
        Members m = Replies.object(
                execute("query-file-map", args("device", device, "offset", offset, "length", length)), "file map");
        return Replies.list(m.any("owners"), "owners").stream()
                .map(FileOwner::from)
                .toList();
    }

    /**
     * export-add: serves a new export while the server runs; {@code spec} is what
     * {@code serve --export} takes after {@code NAME=}, e.g. {@code memory:64M,cache=writeback}.
     */
    public ExportAdded exportAdd(String name, String spec) {
        return ExportAdded.from(execute("export-add", args("name", name, "spec", spec)));
    }

    /**
     * export-add with {@code from}: serves a clone of snapshot {@code snapshot} of export
     * {@code fromDevice}, copy-on-write and at once; its writes never reach the origin.
     */
    public ExportAdded exportAdd(String name, String fromDevice, String snapshot) {
        return ExportAdded.from(
                execute("export-add", args("name", name, "from", args("device", fromDevice, "snapshot", snapshot))));
    }

    /** export-remove: its connections answer what they read and close, then the export is flushed and closed. */
    public ExportRemoved exportRemove(String name) {
        return ExportRemoved.from(execute("export-remove", args("name", name)));
    }

    /** query-write-cache: mode, dirty data, counters. */
    public WriteCacheInfo queryWriteCache(String device) {
        return WriteCacheInfo.from(execute("query-write-cache", args("device", device)));
    }

    /**
     * write-cache-set-mode; leaving a caching mode for writethrough first persists what is dirty and
     * disarms an armed deferred flush error.
     *
     * @return whether the switch disarmed an armed deferred flush error
     */
    public boolean writeCacheSetMode(String device, CacheMode mode) {
        Object reply = execute("write-cache-set-mode", args("device", device, "mode", mode.label()));
        return reply instanceof Map<?, ?> m && Boolean.TRUE.equals(m.get("flush-error-disarmed"));
    }

    /** write-cache-arm-flush-error: the next FLUSH fails with EIO once and drops the dirty data it should persist. */
    public void writeCacheArmFlushError(String device) {
        execute("write-cache-arm-flush-error", args("device", device));
    }

    /** power-fail, losing every unflushed write; the export's NBD connections are dropped. */
    public PowerFailReport powerFail(String device) {
        return PowerFailReport.from(execute("power-fail", args("device", device)));
    }

    /** power-fail with a mode and, if not null, a seed (otherwise the server draws one and reports it). */
    public PowerFailReport powerFail(String device, PowerFailMode mode, Long seed) {
        return PowerFailReport.from(execute("power-fail", args("device", device, "mode", mode.label(), "seed", seed)));
    }

    /** fault-add: adds rules in one atomic change (all or, on error, none) and returns their ids. */
    public List<Long> faultAdd(String device, FaultRule... rules) {
        return faultAdd(device, List.of(rules));
    }

    public List<Long> faultAdd(String device, List<FaultRule> rules) {
        return ids(execute("fault-add", args("device", device, "rules", rules)), "ids");
    }

    /** fault-preset: adds a profile's rules (limping-disk, dying-disk, flaky-disk) and returns their ids. */
    public List<Long> faultPreset(String device, String preset, Map<String, ?> params) {
        return ids(execute("fault-preset", args("device", device, "preset", preset, "params", params)), "ids");
    }

    /** fault-remove: removes rules by id (an unknown id removes nothing); their held requests run. */
    public void faultRemove(String device, long... ids) {
        execute(
                "fault-remove",
                args(
                        "device",
                        device,
                        "ids",
                        java.util.Arrays.stream(ids).boxed().toList()));
    }

    /** fault-clear: removes every rule of the export and returns how many there were. */
    public long faultClear(String device) {
        return Replies.object(execute("fault-clear", args("device", device)), "fault-clear reply")
                .integer("removed");
    }

    /** trigger-add: adds triggers in one change (docs/TRIGGERS.md) and returns their ids. */
    public List<Long> triggerAdd(Trigger... triggers) {
        return ids(execute("trigger-add", args("triggers", List.of(triggers))), "ids");
    }

    /** trigger-remove: removes triggers by id (an unknown id removes nothing). */
    public void triggerRemove(long... ids) {
        execute(
                "trigger-remove",
                args("ids", java.util.Arrays.stream(ids).boxed().toList()));
    }

    /** trigger-clear: removes every trigger; returns how many there were. */
    public long triggerClear() {
        return Replies.object(execute("trigger-clear"), "trigger-clear reply").integer("removed");
    }

    /** query-triggers: every trigger with its counts, fire times and what it waits for. */
    public List<TriggerInfo> queryTriggers() {
        return Replies.list(execute("query-triggers"), "query-triggers reply").stream()
                .map(TriggerInfo::from)
                .toList();
    }

    /** snapshot-create: a named copy-on-write snapshot of the export (the write cache persisted first). */
    public SnapshotInfo snapshotCreate(String device, String name) {
        return SnapshotInfo.from(execute("snapshot-create", args("device", device, "name", name)), device);
    }

    /** snapshot-revert: the export's data as at the snapshot; dirty cached data is dropped and counted. */
    public SnapshotRevert snapshotRevert(String device, String name) {
        return SnapshotRevert.from(execute("snapshot-revert", args("device", device, "name", name)));
    }

    /** snapshot-delete: the data clients read does not change. */
    public void snapshotDelete(String device, String name) {
        execute("snapshot-delete", args("device", device, "name", name));
    }

    /** query-snapshots for one export (all if null), oldest first per export. */
    public List<SnapshotInfo> querySnapshots(String device) {
        return Replies.list(execute("query-snapshots", args("device", device)), "query-snapshots reply").stream()
                .map(s -> SnapshotInfo.from(s, device))
                .toList();
    }

    /**
     * history-start: records the export's changes, flushes and marks into the new file {@code path}
     * (null: a temporary file), after taking snapshot {@code base} (null: history-base).
     */
    public HistoryInfo historyStart(String device, String path, String base) {
        return HistoryInfo.from(execute("history-start", args("device", device, "path", path, "base", base)));
    }

    /** history-start that logs every completed read too (where, not the data) with {@code reads}. */
    public HistoryInfo historyStart(String device, String path, String base, boolean reads) {
        return HistoryInfo.from(
                execute("history-start", args("device", device, "path", path, "base", base, "reads", reads)));
    }

    /** history-mark: a label at this point of the history; returns its entry number. */
    public long historyMark(String device, String label) {
        return Replies.longValue(execute("history-mark", args("device", device, "label", label)), "history-mark reply");
    }

    /** history-stop: ends the history; the file is closed and forced to the disk, the base snapshot stays. */
    public HistoryInfo historyStop(String device) {
        return HistoryInfo.from(execute("history-stop", args("device", device)));
    }

    /** query-history: the history being recorded, or the last one. */
    public HistoryInfo queryHistory(String device) {
        return HistoryInfo.from(execute("query-history", args("device", device)));
    }

    /**
     * history-materialize: the export's data becomes a crash state of the history in {@code path}:
     * the base, the changes of the first {@code prefix} entries, then those in {@code apply}; a
     * change in {@code torn} lands only in the listed 512-byte blocks. Returns the bytes applied.
     */
    public long historyMaterialize(
            String device, String path, long prefix, Collection<Long> apply, Map<Long, List<Integer>> torn) {
        List<Object> tornArg = new ArrayList<>();
        torn.forEach((entry, blocks) -> tornArg.add(args("entry", entry, "blocks", List.copyOf(blocks))));
        return Replies.longValue(
                execute(
                        "history-materialize",
                        args(
                                "device",
                                device,
                                "path",
                                path,
                                "prefix",
                                prefix,
                                "apply",
                                List.copyOf(apply),
                                "torn",
                                tornArg)),
                "history-materialize reply");
    }

    /** history-release: closes the history history-materialize read and deletes its checkpoint snapshot. */
    public void historyRelease(String device) {
        execute("history-release", args("device", device));
    }

    /** reset of one export (all if null): held requests failed with ESHUTDOWN, data left as it is. */
    public ResetReport reset(String device) {
        return reset(device, false, null);
    }

    /**
     * reset of one export (all if null).
     *
     * @param releaseHeld let held requests run to completion first instead of failing them
     * @param snapshot    revert the data to this snapshot; null leaves the data as it is
     */
    public ResetReport reset(String device, boolean releaseHeld, String snapshot) {
        return ResetReport.from(
                execute("reset", args("device", device, "held", releaseHeld ? "release" : null, "snapshot", snapshot)));
    }

    /** query-faults: every export's rules with their state and counts. */
    public List<FaultInfo> queryFaults() {
        return queryFaults(null);
    }

    /** query-faults for one export (all if null). */
    public List<FaultInfo> queryFaults(String device) {
        return Replies.list(execute("query-faults", args("device", device)), "query-faults reply").stream()
                .map(FaultInfo::from)
                .toList();
    }

    /** query-held-requests for one export (all if null), oldest first. */
    public List<HeldRequest> queryHeldRequests(String device) {
        return Replies.list(execute("query-held-requests", args("device", device)), "query-held-requests reply")
                .stream()
                .map(HeldRequest::from)
                .toList();
    }

    /** fault-release: lets every held request of the export run, oldest first; returns their ids. */
    public List<Long> faultRelease(String device) {
        return faultRelease(device, null, null, null);
    }

    /**
     * fault-release: releases held requests one after the other.
     *
     * @param ids   held request ids, or null for all
     * @param order fifo, lifo, given or random; null for fifo
     * @param errno fail them with this errno name or number instead of letting them run; null to run them
     * @return the ids released, in the order released
     */
    public List<Long> faultRelease(String device, List<Long> ids, String order, Object errno) {
        return faultRelease(device, ids, order, errno, null);
    }

    /** fault-release with the shuffle's seed for order {@code random} (null: the server's default). */
    public List<Long> faultRelease(String device, List<Long> ids, String order, Object errno, Long seed) {
        return ids(
                execute(
                        "fault-release",
                        args("device", device, "ids", ids, "order", order, "errno", errno, "seed", seed)),
                "released");
    }

    /** query-fault-journal: up to {@code limit} entries after seq {@code after}, of one export (all if null). */
    public FaultJournal queryFaultJournal(String device, long after, int limit) {
        return FaultJournal.from(
                execute("query-fault-journal", args("device", device, "after", after, "limit", limit)));
    }

    /** query-fault-types: the types fault-add takes. */
    public List<FaultType> queryFaultTypes() {
        return Replies.list(execute("query-fault-types"), "query-fault-types reply").stream()
                .map(FaultType::from)
                .toList();
    }

    private static List<Long> ids(Object reply, String key) {
        List<Long> out = new ArrayList<>();
        for (Object id : Replies.object(reply, key + " reply").list(key)) {
            if (!(id instanceof Long l)) {
                throw new IllegalStateException(
                        "unexpected reply: '" + key + "' should hold integers, got " + Json.write(id));
            }
            out.add(l);
        }
        return out;
    }

    // ---- critical timing

    /**
     * Sets a breakpoint and returns a handle to wait for its hit, then resume or remove it.
     * A hit that happens before {@link Breakpoint#awaitHit} is called is not missed.
     *
     * @param event a blkdebug event, e.g. {@code write_aio}, {@code flush_to_disk}
     */
    public Breakpoint breakpoint(String device, String event, String tag) {
        long before = lastEventSequence();
        blkdebugSetBreakpoint(device, event, tag);
        return new Breakpoint(this, device, event, tag, before);
    }

    // ---- events

    /** Calls {@code listener} with every event from now on, on the client's event thread. */
    public Subscription addListener(Consumer<Event> listener) {
        return connection.events.listen(Objects.requireNonNull(listener, "listener"));
    }

    /** Calls {@code listener} with every event named {@code name}. */
    public Subscription onEvent(String name, Consumer<Event> listener) {
        return addListener(e -> {
            if (e.name().equals(name)) {
                listener.accept(e);
            }
        });
    }

    /**
     * Waits for an event named {@code name} that {@code match} accepts and takes it from the queue.
     * Events are queued from the moment the client connects until taken (the oldest are dropped
     * past 10,000), so one that came before this call counts; {@link #drainEvents()} forgets them.
     *
     * @throws FaultdiskTimeoutException if none comes in time
     */
    public Event awaitEvent(String name, Predicate<Event> match, Duration timeout) {
        return awaitEvent(0, name, match, timeout);
    }

    /** Waits for any event named {@code name}. */
    public Event awaitEvent(String name, Duration timeout) {
        return awaitEvent(name, e -> true, timeout);
    }

    /** Waits for any event {@code match} accepts and takes it from the queue (see {@link #awaitEvent(String, Predicate, Duration)}). */
    public Event awaitEvent(Predicate<Event> match, Duration timeout) {
        return connection.events.await(0, match, timeout, "matching event");
    }

    Event awaitEvent(long afterSequence, String name, Predicate<Event> match, Duration timeout) {
        return connection.events.await(
                afterSequence, e -> e.name().equals(name) && match.test(e), timeout, "event " + name);
    }

    /** The sequence number of the last event received (0 before any). */
    long lastEventSequence() {
        return connection.events.lastSequence();
    }

    /** Takes every queued event, oldest first. */
    public List<Event> drainEvents() {
        return connection.events.drain();
    }

    /** Events dropped because nobody took them and the queue was full. */
    public long droppedEvents() {
        return connection.events.dropped();
    }

    /**
     * Events the server did not send this client because the client fell behind and its session's
     * output queue was full: the sum of the counts of the EVENTS_DROPPED events received. Nonzero
     * means an awaited event may never come.
     */
    public long serverDroppedEvents() {
        return connection.events.serverDropped();
    }

    /** The default bound on waits. */
    public Duration timeout() {
        return timeout;
    }

    /** Closes the connection; waits in other threads fail with {@link QmpConnectionException}. */
    @Override
    public void close() {
        connection.close();
    }
}
