package dev.faultdisk.nbd;

import dev.faultdisk.export.Export;
import dev.faultdisk.wire.net.ChannelSocket;
import dev.faultdisk.wire.net.Fatal;
import dev.faultdisk.wire.net.ReaderSpin;
import dev.faultdisk.wire.net.StreamChannel;
import dev.faultdisk.wire.net.TlsMode;
import java.io.ByteArrayOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.lang.System.Logger.Level;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketAddress;
import java.net.StandardSocketOptions;
import java.nio.ByteBuffer;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.SocketChannel;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ScheduledFuture;

/**
 * One client connection: the handshake, then the transmission loop. A single reader thread
 * decodes requests from a buffered input and runs them; replies are coalesced by the
 * {@link ReplyWriter}. Anything the client gets wrong ends at most this connection.
 */
final class Connection implements Runnable {
    private static final System.Logger LOG = System.getLogger(Connection.class.getName());
    /** Largest option payload accepted; names are at most 4 KiB, so this is generous. */
    static final int MAX_OPTION_DATA = 64 * 1024;
    /** Option payloads up to this are skipped with ERR_TOO_BIG; beyond it the client is dropped. */
    private static final int MAX_OPTION_SKIP = 16 << 20;

    /**
     * {@code -Dfaultdisk.nbd.sendBuffer=BYTES} fixes each TCP connection's send buffer (Linux
     * doubles it, up to twice net.core.wmem_max) instead of leaving it to autotuning (up to
     * tcp_wmem's maximum); 0, the default, leaves it. Measured, not judged: docs/BENCHMARKS.md.
     */
    private static final int SEND_BUFFER = Integer.getInteger("faultdisk.nbd.sendBuffer", 0);
    /**
     * The send buffer of a TLS connection (with certificates) from this machine's loopback, in
     * bytes ({@code -Dfaultdisk.nbd.tlsLoopbackSendBuffer}, 0 to leave it to autotuning): large
     * reads came out 18-33% faster with 64 KiB than autotuned, in every round of two runs, the
     * client spending less CPU a MiB (docs/BENCHMARKS.md, "A small send buffer for TLS on
     * loopback"). Not for a remote client: a fixed buffer caps a long link's throughput at the
     * buffer over the round trip. Not over plaintext, where reads written from the image's
     * mapping were twice as fast with autotuning. A send buffer given for every connection
     * ({@code -Dfaultdisk.nbd.sendBuffer}) wins.
     */
    static final int TLS_LOOPBACK_SEND_BUFFER = Integer.getInteger("faultdisk.nbd.tlsLoopbackSendBuffer", 64 << 10);

    private final NbdServer server;
    private final SocketChannel channel;
    /** What requests are read from, buffered. */
    private final ConnectionInput input;

    private volatile ScheduledFuture<?> deadline;
    private final long id;

    private volatile Transmission transmission;

    private final ReplyWriter writer;
    /** TCP (timed reads), not a Unix socket (whose reader polls it to wait with a timeout). */
    private final boolean tcp;
    /** The TCP socket's stream for the platform reader's timed waits; null until the first. */
    private InputStream tcpInput;
    /** Whether the reader looks for its next request before it blocks (reader thread only). */
    private final ReaderSpin spin;
    /** The platform reader's timed wait for input. */
    private final ReaderPollHolder poll;

    private final CompletableFuture<Void> closed = new CompletableFuture<>();
    private volatile boolean closing;
    private volatile Export export;
    private volatile ConnectionInfo.Phase phase = ConnectionInfo.Phase.HANDSHAKE;
    /** Why the server ended the connection, when it did (the first reason given wins). */
    private volatile String closeReason;
    /** The TLS version and cipher suite agreed at STARTTLS, or null. */
    private volatile String tls;
    /** The peer as the log lines name it, read once: a closed channel no longer knows it. */
    private String peerName;
    /** Whether the greeting went out (reader only; the handshake may move on after it). */
    private boolean greeted;
    /**
     * How long the next wait for a request may last on a platform reader before the connection
     * moves to a virtual thread: short once after a handshake that moved to a platform reader for
     * itself alone (see {@link ReaderThreads#AFTER_HANDSHAKE_IDLE_MILLIS}), else the idle time.
     */
    private int firstIdleMillis = ReaderThreads.IDLE_MILLIS;
    /** Whether the client ended the connection itself, DISC or ABORT (reader only; see {@link LingeringClose}). */
    private boolean endedByClient;
    /** The options the client sent, in order, for the log line. */
    private final List<String> options = new ArrayList<>();

    Connection(NbdServer server, SocketChannel channel, long id) {
        this.server = server;
        this.channel = channel;
        this.input = new ConnectionInput(channel);
        this.id = id;
        this.writer = new ReplyWriter(channel);
        this.spin = input.spin();
        this.poll = new ReaderPollHolder(channel);
        boolean inet;
        try {
            inet = channel.getLocalAddress() instanceof java.net.InetSocketAddress;
        } catch (IOException e) {
            inet = false; // closed already: the reader finds out
        }
        this.tcp = inet;
        if (SEND_BUFFER > 0 && inet) {
            try {
                channel.setOption(java.net.StandardSocketOptions.SO_SNDBUF, SEND_BUFFER);
            } catch (IOException e) {
                // closed already: the reader finds out
            }
        }
    }

    long id() {
        return id;
    }

    /** The connection's socket. */
    SocketChannel channel() {
        return channel;
    }

    /**
     * Runs the connection on the current thread: the handshake, then transmission until the
     * connection ends or moves to another thread (see {@link ReaderThreads}), which calls this
     * again and goes on where it left off.
     */
    @Override
    public void run() {
        Transmission t = transmission;
        if (peerName == null) {
            peerName = peer();
        }
        boolean moved = false;
        String reason = "the client disconnected";
        try {
            if (t == null) {
                if (!greeted) {
                    // On the virtual thread the connection starts on: its first use of the socket
                    // there makes the JDK keep it non-blocking, which the spliced writes and the
                    // reader's poll for delayed requests need. A handshake that may be TLS then
                    // moves to a platform thread (ReaderThreads#moveForHandshake).
                    greeted = true;
                    write(Negotiation.greeting());
                    firstIdleMillis = ReaderThreads.AFTER_HANDSHAKE_IDLE_MILLIS; // seen by the new reader
                    if (ReaderThreads.moveForHandshake(this)) {
                        moved = true;
                        return;
                    }
                    firstIdleMillis = ReaderThreads.IDLE_MILLIS;
                }
                Negotiation negotiation = handshake();
                if (negotiation == null) {
                    endedByClient = true;
                    reason = "the handshake ended without an export (options " + String.join(", ", options) + ")";
                    return;
                }
                // Built here, not by the logger's MessageFormat: that would print connection 1000 as
                // "1,000" (as the locale groups digits), unlike every other place that names it.
                LOG.log(
                        Level.INFO,
                        "NBD connection " + id + " from " + peerName + ": export '" + export.name() + "', "
                                + negotiated(negotiation));
                t = new Transmission(this, negotiation, writer);
                transmission = t;
            }
            moved = t.run();
        } catch (EOFException | ClosedChannelException e) {
            reason = "the client closed the connection";
        } catch (ProtocolException e) {
            reason = "protocol error: " + e.getMessage();
            LOG.log(Level.WARNING, "connection " + id + ": protocol error, disconnecting: " + e.getMessage());
        } catch (javax.net.ssl.SSLException e) {
            reason = "TLS failed: " + e.getMessage();
            NbdServer.refusal("tls", "connection " + id + ": TLS failed, disconnecting: " + e.getMessage());
        } catch (IOException e) {
            reason = e.toString();
        } catch (Throwable e) {
            Fatal.check(e, "NBD connection " + id);
            reason = "internal error: " + e;
            LOG.log(Level.ERROR, "connection " + id + ": internal error, disconnecting", e);
        } finally {
            ScheduledFuture<?> d = deadline;
            if (d != null && !moved) {
                d.cancel(false);
            }
            if (!moved) {
                finish(t);
                String why = closeReason != null ? closeReason : reason;
                try {
                    LOG.log(Level.INFO, "NBD connection " + id + " from " + peerName + " closed: " + why);
                } finally {
                    // Only now: a server's shutdown waits for its connections to leave, and a line
                    // logged after it returned would escape a caller holding the lines back (the warm-up's).
                    server.removed(this);
                }
            }
        }
    }

    private String peer() {
        try {
            SocketAddress remote = channel.getRemoteAddress();
            String text = String.valueOf(remote);
            return remote instanceof InetSocketAddress
                    ? text.replaceFirst("^/", "")
                    : "unix:" + channel.getLocalAddress();
        } catch (IOException e) {
            return "an unknown peer";
        }
    }

    /** What the handshake settled, for the connection's log line. */
    private String negotiated(Negotiation n) {
        return (n.extendedHeaders()
                        ? "extended headers"
                        : n.structuredReplies() ? "structured replies" : "simple replies")
                + (n.baseAllocation() ? ", base:allocation" : "")
                + ", flags 0x" + Integer.toHexString(n.transmissionFlags())
                + ", options " + String.join(", ", options)
                + (tls == null ? "" : ", " + tls);
    }

    /** Closes the connection for {@code reason} (said in its log line): a power cut, a removal, a shutdown. */
    void closeBecause(String reason) {
        if (closeReason == null) {
            closeReason = reason;
        }
        close();
    }

    /** As {@link #shutdown()}, saying why in the connection's log line. */
    void shutdownBecause(String reason) {
        if (closeReason == null) {
            closeReason = reason;
        }
        shutdown();
    }

    private void finish(Transmission transmission) {
        if (endedByClient && !closing) {
            LingeringClose.awaitClientEnd(channel, input.secured() ? this::endTls : null, server, this::close);
        }
        close();
        if (transmission != null) {
            transmission.readerDone(); // only the reader (this thread) uses what it lets go
        }
        poll.release();
        releaseBuffers(transmission);
    }

    /**
     * Shuts the TLS session down with close_notify, as the NBD spec asks at NBD_CMD_DISC; a TLS
     * client reads the end of the stream without it as an error (Bouncy Castle's does; GnuTLS
     * reports a premature termination).
     */
    private void endTls() throws IOException {
        writer.lock();
        try {
            input.tlsChannel().endOutput();
        } finally {
            writer.unlock();
        }
    }

    /**
     * Returns the connection's buffers to the pool, so that connections coming and going keep
     * memory flat (direct buffers are otherwise freed only by a garbage collection). Not while a
     * request still runs on its own thread: it may yet write a reply into them.
     */
    private void releaseBuffers(Transmission transmission) {
        if (transmission != null && !transmission.finish()) {
            return;
        }
        if (transmission != null) {
            transmission.release();
        }
        input.release();
        writer.release();
    }

    /** The handshake after the greeting, up to the export chosen (null if the client ended it). */
    private Negotiation handshake() throws IOException, ProtocolException {
        ByteBuffer in = input.buffer(); // the same buffer until the reader first waits idle
        input.require(4);
        int clientFlags = in.getInt();
        if (!Negotiation.acceptableClientFlags(clientFlags)) {
            throw new ProtocolException("unknown client flags 0x" + Integer.toHexString(clientFlags));
        }
        NbdServer.Options serverOptions = server.options();
        Negotiation negotiation =
                new Negotiation(server.exports(), clientFlags, server::isShuttingDown, serverOptions.tlsMode());
        ByteArrayOutputStream replies = new ByteArrayOutputStream();
        while (true) {
            input.require(16);
            long magic = in.getLong();
            if (magic != NbdProtocol.IHAVEOPT) {
                throw new ProtocolException(String.format("bad option magic 0x%016x", magic));
            }
            int option = in.getInt();
            if (options.size() < 32) {
                options.add(NbdProtocol.optionName(option));
            }
            long length = Integer.toUnsignedLong(in.getInt());
            if (length > MAX_OPTION_DATA) {
                if (length > MAX_OPTION_SKIP || option == NbdProtocol.OPT_EXPORT_NAME) {
                    throw new ProtocolException("option " + option + " with " + length + " bytes of data");
                }
                input.skip(length);
                replies.reset();
                ByteBuffer err = ByteBuffer.allocate(20 + 17);
                err.putLong(NbdProtocol.OPTION_REPLY_MAGIC)
                        .putInt(option)
                        .putInt(NbdProtocol.REP_ERR_TOO_BIG)
                        .putInt(17)
                        .put("option too large.".getBytes(java.nio.charset.StandardCharsets.US_ASCII));
                write(err.flip());
                continue;
            }
            input.require((int) length);
            ByteBuffer data = in.slice(in.position(), (int) length);
            in.position(in.position() + (int) length);
            replies.reset();
            Negotiation.Outcome outcome = negotiation.handle(option, data, replies);
            if (outcome == Negotiation.Outcome.TRANSMIT) {
                // Before the reply: once the client may send requests, a power cut must find it.
                export = negotiation.export();
                phase = ConnectionInfo.Phase.TRANSMISSION;
                if (server.exports().find(export.name()).orElse(null) != export) {
                    // Removed while we negotiated: the removal may have missed this connection.
                    throw new ProtocolException("export '" + export.name() + "' was removed");
                }
            }
            write(ByteBuffer.wrap(replies.toByteArray()));
            switch (outcome) {
                case CLOSE -> {
                    return null;
                }
                case TRANSMIT -> {
                    ScheduledFuture<?> d = deadline;
                    if (d != null) {
                        d.cancel(false);
                    }
                    return negotiation;
                }
                case START_TLS -> {
                    startTls(serverOptions);
                    negotiation.tlsStarted();
                }
                case CONTINUE -> {}
            }
        }
    }

    /**
     * Runs the TLS handshake after the STARTTLS ACK went out; from then on everything goes
     * through TLS. Bytes the client sent early (already buffered) are the start of the handshake.
     */
    private void startTls(NbdServer.Options options) throws IOException {
        byte[] early = input.takeBuffered();
        int millis =
                (int) Math.min(Integer.MAX_VALUE, options.handshakeTimeout().toMillis());
        CertTls certificates = server.certTls();
        StreamChannel secure;
        if (options.psk() != null) {
            secure = options.psk().handshake(ChannelSocket.of(channel), early, millis);
        } else if (certificates != null) {
            secure = certificates.handshake(ChannelSocket.of(channel), early, millis);
        } else {
            secure = options.tls().secure(ChannelSocket.of(channel), early, null, millis);
        }
        input.secure(secure);
        writer.switchTo(secure);
        tls = secure.session();
        if (SEND_BUFFER == 0 && TLS_LOOPBACK_SEND_BUFFER > 0 && options.psk() == null && fromLoopback()) {
            channel.setOption(StandardSocketOptions.SO_SNDBUF, TLS_LOOPBACK_SEND_BUFFER);
        }
    }

    /** Whether the peer is a TCP client on this machine's loopback. */
    private boolean fromLoopback() throws IOException {
        return tcp
                && channel.getRemoteAddress() instanceof InetSocketAddress peer
                && peer.getAddress().isLoopbackAddress();
    }

    /** The socket's send buffer size, as set (the JDK reports what was asked, not Linux's doubled figure). */
    int sendBufferBytes() throws IOException {
        return channel.getOption(StandardSocketOptions.SO_SNDBUF);
    }

    /** The handshake deadline, cancelled once the client chose an export. */
    void deadline(ScheduledFuture<?> deadline) {
        this.deadline = deadline;
    }

    /** Called at the handshake deadline: a connection still negotiating is closed. */
    void handshakeExpired() {
        if (export == null && !closing) {
            NbdServer.refusal(
                    "handshake",
                    "connection " + id + ": no export chosen within "
                            + server.options().handshakeTimeout().toMillis() + " ms (the handshake limit); closing it");
            close();
        }
    }

    /**
     * Waits for input with the input buffer back in the pool (call with none left unread): a
     * connection waiting idle then holds only a small buffer. Returns the count read, -1 at end of
     * stream, or {@link ReaderThreads#MOVED} when the connection moved to another thread, which
     * now reads it (the caller returns).
     */
    int awaitInput() throws IOException {
        int idleMillis = firstIdleMillis;
        firstIdleMillis = ReaderThreads.IDLE_MILLIS;
        int n;
        if (input.secured()) {
            // TLS: the bytes on the socket belong to the TLS channel, so the reader waits on it,
            // with the small buffer as over plaintext. Both TLS layers (the JDK's, and Bouncy
            // Castle's for PSK) survive a read timeout, keeping the record read in part, so the
            // reader can wait with the idle time (over TCP) and move.
            // With input here already (a busy connection) it reads on with its buffers instead,
            // and a busy one looks for the next record before it waits idle, as over plaintext:
            // a client whose next request comes tens of µs after a reply (any client at queue
            // depth 1, decrypting the reply and sealing the next) then needs no wake of a blocked
            // reader, which on a virtual machine costs both ends a cross-CPU interrupt
            // (docs/BENCHMARKS.md, "TLS at queue depth 1").
            Socket plain = tcp ? channel.socket() : null;
            n = spin.awaitThrough(
                    input::tlsInputWaiting,
                    () -> input.fill(1),
                    () -> input.awaitIdle(small ->
                            ReaderThreads.awaitSecured(plain, poll, () -> input.readSecuredIdle(small), idleMillis)));
        } else {
            n = input.awaitIdle(small -> ReaderThreads.awaitInput(channel, small, tcpInput(), poll, spin, idleMillis));
        }
        if (n == ReaderThreads.IDLE) {
            poll.release(); // a virtual reader has no use for it
        }
        if (n == ReaderThreads.IDLE || (n > 0 && ReaderThreads.moveWhenBusy())) {
            // Nothing touched after the start: the new thread owns the connection from here.
            ReaderThreads.continueOn(n == ReaderThreads.IDLE, this);
            return ReaderThreads.MOVED;
        }
        return n;
    }

    /**
     * The TCP socket's stream, made once (the socket makes another at each call, an object for
     * each idle wait), or null over a Unix socket. Reader thread only.
     */
    private InputStream tcpInput() throws IOException {
        if (tcp && tcpInput == null) {
            tcpInput = channel.socket().getInputStream();
        }
        return tcpInput;
    }

    /** The platform reader's timed wait for input (see {@link ReaderPollHolder}). */
    ReaderPollHolder poll() {
        return poll;
    }

    /** The connection's buffered input (reader thread only). */
    ConnectionInput input() {
        return input;
    }

    /**
     * Bytes of pooled buffers the connection holds now (input, idle input, replies, scratch, and
     * the TLS channel's), for checks that an idle connection costs little. A snapshot read off
     * the reader thread.
     */
    long heldBufferBytes() {
        long held = input.heldBytes(); // read first: the reader writes it after releasing the others
        Transmission t = transmission;
        return held + input.tlsHeldBytes() + writer.heldBytes() + (t == null ? 0 : t.heldBytes());
    }

    /** The export this connection serves, once the handshake chose one. */
    Export export() {
        return export;
    }

    NbdServer server() {
        return server;
    }

    private void write(ByteBuffer b) throws IOException {
        writer.lock();
        try {
            writer.flushWithPayloadLocked(b);
        } finally {
            writer.unlock();
        }
    }

    /** Stops reading: the reader finishes what it has and exits. Used at server shutdown. */
    void shutdown() {
        closing = true;
        try {
            channel.shutdownInput();
        } catch (IOException e) {
            close();
        }
    }

    /**
     * Whether the handshake may cost milliseconds of CPU and waits better on a platform reader: a
     * connection (TCP or Unix socket) to a server that offers TLS. Over Unix sockets too: with 100
     * busy TLS connections there a handshake on a virtual thread met the handshake limit and others
     * came seconds late (docs/BENCHMARKS.md, "This round (after 9ba1314)"); the 45% more CPU a
     * handshake that once kept Unix sockets' handshakes virtual was a thread started for each,
     * gone since platform readers are kept ("Platform readers kept").
     */
    boolean heavyHandshake() {
        return server.options().tlsMode() != TlsMode.OFF;
    }

    /** The socket of a plain TCP connection (no TLS), for calls the JDK lacks; else null. */
    SocketChannel plainSocket() {
        return tcp && !input.secured() ? channel : null;
    }

    boolean isOpen() {
        return channel.isOpen();
    }

    /** Whether the connection is over TCP (else a Unix socket). */
    boolean overTcp() {
        return tcp;
    }

    /** Whether the connection's bytes go through TLS (it started TLS during the handshake). */
    boolean overTls() {
        return input.secured();
    }

    boolean isClosing() {
        return closing || server.isShuttingDown();
    }

    /** An unchecked exception from a request run off the reader thread: logged, then a hard close. */
    void internalError(Throwable e) {
        LOG.log(Level.ERROR, "connection " + id + ": internal error, disconnecting", e);
        close();
    }

    /** Where the connection is and whether a reply write is under way, for observers (tests, queries). */
    ConnectionInfo info() {
        return new ConnectionInfo(id, export == null ? null : export.name(), phase, writer.writing(), tls);
    }

    /** Called by the reader when the client sent NBD_CMD_DISC: its input ends there. */
    void disconnectAsked() {
        endedByClient = true;
        inputEnded();
    }

    /** Called by the reader when the client's input ended: it now finishes what it read. */
    void inputEnded() {
        phase = ConnectionInfo.Phase.DRAINING;
    }

    /** Completes when the connection is closed. */
    CompletableFuture<Void> closed() {
        return closed;
    }

    /** Hard close: drops the socket, and the requests the connection has held (nobody waits for them). */
    void close() {
        closing = true;
        phase = ConnectionInfo.Phase.CLOSED;
        try {
            channel.close();
        } catch (IOException e) {
            LOG.log(Level.DEBUG, "connection {0}: close failed: {1}", Long.toString(id), e.toString());
        }
        writer.closeUring(); // its duplicate of the socket's descriptor would keep the socket open
        poll.wake(); // the same for the reader's, and it may be waiting on it
        if (closed.complete(null)) {
            Export served = export;
            if (served != null) {
                int dropped = served.connectionClosed(id);
                if (dropped > 0) {
                    LOG.log(Level.INFO, "connection " + id + " closed: " + dropped + " held requests dropped");
                }
            }
        }
    }
}
