package dev.faultdisk.nbd;

import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketException;
import java.net.SocketTimeoutException;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.Channels;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.bouncycastle.tls.DefaultTlsClient;
import org.bouncycastle.tls.ServerOnlyTlsAuthentication;
import org.bouncycastle.tls.TlsAuthentication;
import org.bouncycastle.tls.TlsClient;
import org.bouncycastle.tls.TlsClientProtocol;
import org.bouncycastle.tls.TlsServerCertificate;
import org.bouncycastle.tls.crypto.impl.bc.BcTlsCrypto;

/**
 * A small blocking NBD client for tests: it sends exactly the bytes a test asks for (any cookie,
 * flags, length or magic) and decodes what comes back without judging it, so tests can assert
 * the server's exact answers. Not thread-safe.
 */
final class RawNbdClient implements AutoCloseable {
    private static final int TIMEOUT_MILLIS = 10_000;

    /** The connection, a TCP socket or a Unix socket's channel. */
    private final java.io.Closeable socket;

    private final DataInputStream in;
    private final DataOutputStream out;
    /** Cookie to length of READs sent without structured replies: a simple reply's payload size. */
    private final Map<Long, Integer> pendingSimpleReads = new HashMap<>();

    private final int handshakeFlags;
    private boolean structured;
    /** Extended headers: 32-byte requests and replies. */
    private boolean extended;

    private long exportSize = -1;
    private int transmissionFlags;

    private RawNbdClient(java.io.Closeable socket, InputStream input, OutputStream output) throws IOException {
        this.socket = socket;
        this.in = new DataInputStream(new java.io.BufferedInputStream(input, 1 << 16));
        this.out = new DataOutputStream(new java.io.BufferedOutputStream(output, 1 << 16));
        long magic = in.readLong();
        long opt = in.readLong();
        if (magic != NbdProtocol.NBDMAGIC || opt != NbdProtocol.IHAVEOPT) {
            throw new IOException(String.format("bad greeting %016x %016x", magic, opt));
        }
        handshakeFlags = in.readUnsignedShort();
    }

    /** The same connection after STARTTLS: the greeting was read in plaintext. */
    private RawNbdClient(javax.net.ssl.SSLSocket tls, int handshakeFlags) throws IOException {
        this(tls, tls.getInputStream(), tls.getOutputStream(), handshakeFlags);
    }

    /** The same connection after STARTTLS, through a TLS layer's streams. */
    private RawNbdClient(java.io.Closeable socket, InputStream input, OutputStream output, int handshakeFlags) {
        this.socket = socket;
        this.in = new DataInputStream(new java.io.BufferedInputStream(input, 1 << 16));
        this.out = new DataOutputStream(new java.io.BufferedOutputStream(output, 1 << 16));
        this.handshakeFlags = handshakeFlags;
    }

    /**
     * Connects to the Unix socket at {@code path}, starts TLS (STARTTLS, then the JDK's TLS with
     * {@code context}), negotiates structured replies and enters transmission with GO. (No read
     * timeout: a test using this sets its own.)
     */
    static RawNbdClient openTls(Path path, String export, javax.net.ssl.SSLContext context) throws IOException {
        return startTls(connect(path), export, context);
    }

    /** As {@link #openTls(Path, String, javax.net.ssl.SSLContext)}, to 127.0.0.1:{@code port}. */
    static RawNbdClient openTls(int port, String export, javax.net.ssl.SSLContext context) throws IOException {
        return startTls(connect(port), export, context);
    }

    /**
     * As {@link #openTls(int, String, javax.net.ssl.SSLContext)}, the client's TLS parameters
     * (versions, suites, signature schemes) set by {@code tune} first.
     */
    static RawNbdClient openTls(
            int port,
            String export,
            javax.net.ssl.SSLContext context,
            java.util.function.Consumer<javax.net.ssl.SSLParameters> tune)
            throws IOException {
        return startTls(connect(port), export, context, tune);
    }

    private static RawNbdClient startTls(RawNbdClient plain, String export, javax.net.ssl.SSLContext context)
            throws IOException {
        return startTls(plain, export, context, p -> {});
    }

    private static RawNbdClient startTls(
            RawNbdClient plain,
            String export,
            javax.net.ssl.SSLContext context,
            java.util.function.Consumer<javax.net.ssl.SSLParameters> tune)
            throws IOException {
        plain.clientFlags(NbdProtocol.FLAG_C_FIXED_NEWSTYLE | NbdProtocol.FLAG_C_NO_ZEROES);
        plain.expectAck(plain.option(NbdProtocol.OPT_STARTTLS, new byte[0]));
        Socket socket = plain.socket instanceof SocketChannel channel
                ? dev.faultdisk.wire.net.ChannelSocket.of(channel)
                : (Socket) plain.socket;
        javax.net.ssl.SSLSocket tls =
                (javax.net.ssl.SSLSocket) context.getSocketFactory().createSocket(socket, "localhost", 0, true);
        tls.setUseClientMode(true);
        javax.net.ssl.SSLParameters params = tls.getSSLParameters();
        tune.accept(params);
        tls.setSSLParameters(params);
        tls.startHandshake();
        RawNbdClient c = new RawNbdClient(tls, plain.handshakeFlags);
        c.expectAck(c.option(NbdProtocol.OPT_STRUCTURED_REPLY, new byte[0]));
        c.expectAck(c.go(export));
        return c;
    }

    /**
     * Connects to 127.0.0.1:{@code port} and asks for STARTTLS; returns the socket once the server
     * agreed, for a test to send what it likes in place of a TLS handshake.
     */
    static Socket startTlsOnly(int port) throws IOException {
        RawNbdClient plain = connect(port);
        plain.clientFlags(NbdProtocol.FLAG_C_FIXED_NEWSTYLE | NbdProtocol.FLAG_C_NO_ZEROES);
        plain.expectAck(plain.option(NbdProtocol.OPT_STARTTLS, new byte[0]));
        return (Socket) plain.socket;
    }

    /**
     * As {@link #openTls(int, String, javax.net.ssl.SSLContext)}, with a pre-shared key: Bouncy
     * Castle's client as {@code identity}, offering {@code suites} (constants of {@link
     * org.bouncycastle.tls.CipherSuite}).
     */
    static RawNbdClient openPsk(int port, String export, String identity, byte[] key, int... suites)
            throws IOException {
        return openBouncyCastle(port, export, new PskClient(identity, key, suites));
    }

    /**
     * As {@link #openTls(int, String, javax.net.ssl.SSLContext)}, with Bouncy Castle's client and
     * no check of the server's certificate: a client stricter than the JDK's at the session's end
     * (it reports an end without close_notify, which the JDK's takes for a clean one).
     */
    static RawNbdClient openX509WithBouncyCastle(int port, String export) throws IOException {
        return openBouncyCastle(port, export, new DefaultTlsClient(new BcTlsCrypto(new SecureRandom())) {
            @Override
            public TlsAuthentication getAuthentication() {
                return new ServerOnlyTlsAuthentication() {
                    @Override
                    public void notifyServerCertificate(TlsServerCertificate certificate) {
                        // any: the tests using this client check the session, not the server's name
                    }
                };
            }
        });
    }

    private static RawNbdClient openBouncyCastle(int port, String export, TlsClient client) throws IOException {
        RawNbdClient plain = connect(port);
        plain.clientFlags(NbdProtocol.FLAG_C_FIXED_NEWSTYLE | NbdProtocol.FLAG_C_NO_ZEROES);
        plain.expectAck(plain.option(NbdProtocol.OPT_STARTTLS, new byte[0]));
        Socket socket = (Socket) plain.socket;
        TlsClientProtocol tls = new TlsClientProtocol(socket.getInputStream(), socket.getOutputStream());
        tls.connect(client);
        RawNbdClient c = new RawNbdClient(socket, tls.getInputStream(), tls.getOutputStream(), plain.handshakeFlags);
        c.expectAck(c.option(NbdProtocol.OPT_STRUCTURED_REPLY, new byte[0]));
        c.expectAck(c.go(export));
        return c;
    }

    /** Connects to 127.0.0.1:{@code port} and reads the greeting; sends nothing. */
    static RawNbdClient connect(int port) throws IOException {
        Socket socket = new Socket();
        socket.connect(new InetSocketAddress("127.0.0.1", port), TIMEOUT_MILLIS);
        socket.setSoTimeout(TIMEOUT_MILLIS);
        socket.setTcpNoDelay(true);
        return new RawNbdClient(socket, socket.getInputStream(), socket.getOutputStream());
    }

    /**
     * Connects to the Unix socket at {@code path} and reads the greeting; sends nothing. (A
     * channel's streams have no read timeout: a test using this sets its own.)
     */
    static RawNbdClient connect(Path path) throws IOException {
        SocketChannel channel = SocketChannel.open(UnixDomainSocketAddress.of(path));
        return new RawNbdClient(channel, Channels.newInputStream(channel), Channels.newOutputStream(channel));
    }

    /** Connects, negotiates structured replies and base:allocation if asked, and enters transmission with GO. */
    static RawNbdClient open(int port, String export, boolean structuredReplies, boolean baseAllocation)
            throws IOException {
        return negotiate(connect(port), export, structuredReplies, baseAllocation);
    }

    /** As {@link #open(int, String, boolean, boolean)}, over the Unix socket at {@code path}. */
    static RawNbdClient open(Path path, String export, boolean structuredReplies, boolean baseAllocation)
            throws IOException {
        return negotiate(connect(path), export, structuredReplies, baseAllocation);
    }

    private static RawNbdClient negotiate(
            RawNbdClient c, String export, boolean structuredReplies, boolean baseAllocation) throws IOException {
        c.clientFlags(NbdProtocol.FLAG_C_FIXED_NEWSTYLE | NbdProtocol.FLAG_C_NO_ZEROES);
        if (structuredReplies) {
            c.expectAck(c.option(NbdProtocol.OPT_STRUCTURED_REPLY, new byte[0]));
        }
        if (baseAllocation) {
            List<OptionReply> replies =
                    c.option(NbdProtocol.OPT_SET_META_CONTEXT, metaContextData(export, NbdProtocol.BASE_ALLOCATION));
            c.expectAck(replies);
        }
        c.expectAck(c.go(export));
        return c;
    }

    /** The JDK's TLS session of a client opened by {@code openTls}. */
    javax.net.ssl.SSLSession tlsSession() {
        return ((javax.net.ssl.SSLSocket) socket).getSession();
    }

    int handshakeFlags() {
        return handshakeFlags;
    }

    long exportSize() {
        return exportSize;
    }

    int transmissionFlags() {
        return transmissionFlags;
    }

    // ---- handshake ----

    void clientFlags(int flags) throws IOException {
        out.writeInt(flags);
        out.flush();
    }

    /** Sends one option with the right magic. */
    void sendOption(int option, byte[] data) throws IOException {
        sendOptionHeader(NbdProtocol.IHAVEOPT, option, data.length);
        out.write(data);
        out.flush();
    }

    /** Sends an option header with any magic and declared length, and no data. */
    void sendOptionHeader(long magic, int option, long declaredLength) throws IOException {
        out.writeLong(magic);
        out.writeInt(option);
        out.writeInt((int) declaredLength);
        out.flush();
    }

    /** One option reply, undecoded. */
    record OptionReply(int option, int type, byte[] data) {
        boolean isError() {
            return type < 0; // bit 31
        }

        String text() {
            return new String(data, StandardCharsets.UTF_8);
        }
    }

    OptionReply readOptionReply() throws IOException {
        long magic = in.readLong();
        if (magic != NbdProtocol.OPTION_REPLY_MAGIC) {
            throw new IOException(String.format("bad option reply magic %016x", magic));
        }
        int option = in.readInt();
        int type = in.readInt();
        byte[] data = new byte[in.readInt()];
        in.readFully(data);
        return new OptionReply(option, type, data);
    }

    /** Sends an option and reads replies up to the final one (ACK or an error). */
    List<OptionReply> option(int option, byte[] data) throws IOException {
        sendOption(option, data);
        return readUntilFinal();
    }

    List<OptionReply> readUntilFinal() throws IOException {
        List<OptionReply> replies = new ArrayList<>();
        while (true) {
            OptionReply r = readOptionReply();
            replies.add(r);
            if (r.type() == NbdProtocol.REP_ACK || r.isError()) {
                return replies;
            }
        }
    }

    /** NBD_OPT_GO with no info requests; on ACK, records size and flags and enters transmission. */
    List<OptionReply> go(String export) throws IOException {
        List<OptionReply> replies = option(NbdProtocol.OPT_GO, goData(export, new int[0]));
        for (OptionReply r : replies) {
            ByteBuffer b = ByteBuffer.wrap(r.data());
            if (r.type() == NbdProtocol.REP_INFO && b.getShort(0) == NbdProtocol.INFO_EXPORT) {
                exportSize = b.getLong(2);
                transmissionFlags = Short.toUnsignedInt(b.getShort(10));
            }
        }
        if (replies.getLast().type() == NbdProtocol.REP_ACK) {
            structured = (transmissionFlags & NbdProtocol.FLAG_SEND_DF) != 0;
        }
        return replies;
    }

    void expectAck(List<OptionReply> replies) throws IOException {
        OptionReply last = replies.getLast();
        if (last.type() != NbdProtocol.REP_ACK) {
            throw new IOException("option " + last.option() + " failed: type 0x" + Integer.toHexString(last.type())
                    + " " + last.text());
        }
    }

    /** Marks structured replies as in use (for a handshake done by hand). */
    void structured(boolean on) {
        structured = on;
    }

    /** Marks extended headers as in use (for a handshake done by hand): requests are then sent extended. */
    void extended(boolean on) {
        extended = on;
        structured |= on;
    }

    /**
     * Negotiates extended headers and base:allocation on a client just connected, and enters
     * transmission with GO: requests go out as 32-byte extended headers from then on.
     */
    static RawNbdClient negotiateExtended(RawNbdClient c, String export) throws IOException {
        c.clientFlags(NbdProtocol.FLAG_C_FIXED_NEWSTYLE | NbdProtocol.FLAG_C_NO_ZEROES);
        c.expectAck(c.option(NbdProtocol.OPT_EXTENDED_HEADERS, new byte[0]));
        c.expectAck(c.option(NbdProtocol.OPT_SET_META_CONTEXT, metaContextData(export, NbdProtocol.BASE_ALLOCATION)));
        c.expectAck(c.go(export));
        c.extended(true);
        return c;
    }

    static byte[] goData(String export, int[] infoRequests) {
        byte[] name = export.getBytes(StandardCharsets.UTF_8);
        ByteBuffer b = ByteBuffer.allocate(4 + name.length + 2 + 2 * infoRequests.length);
        b.putInt(name.length).put(name).putShort((short) infoRequests.length);
        for (int r : infoRequests) {
            b.putShort((short) r);
        }
        return b.array();
    }

    static byte[] metaContextData(String export, String... queries) {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        DataOutputStream d = new DataOutputStream(bytes);
        try {
            byte[] name = export.getBytes(StandardCharsets.UTF_8);
            d.writeInt(name.length);
            d.write(name);
            d.writeInt(queries.length);
            for (String q : queries) {
                byte[] qb = q.getBytes(StandardCharsets.UTF_8);
                d.writeInt(qb.length);
                d.write(qb);
            }
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
        return bytes.toByteArray();
    }

    // ---- transmission ----

    /**
     * Sends one request, extended if extended headers are in use (its length then 64 bits);
     * {@code payload} (may be null) follows the header as is. Not flushed.
     */
    void send(int flags, int type, long cookie, long offset, long length, byte[] payload) throws IOException {
        out.writeInt(extended ? NbdProtocol.EXTENDED_REQUEST_MAGIC : NbdProtocol.REQUEST_MAGIC);
        out.writeShort(flags);
        out.writeShort(type);
        out.writeLong(cookie);
        out.writeLong(offset);
        if (extended) {
            out.writeLong(length);
        } else {
            out.writeInt((int) length);
        }
        if (payload != null) {
            out.write(payload);
        }
        if (type == NbdProtocol.CMD_READ && !structured) {
            pendingSimpleReads.put(cookie, (int) length);
        }
    }

    void flush() throws IOException {
        out.flush();
    }

    /** Writes raw bytes and flushes. */
    void sendRaw(byte[] bytes) throws IOException {
        out.write(bytes);
        out.flush();
    }

    /** Writes {@code count} zero bytes (a payload whose content does not matter) and flushes. */
    void sendZeroes(long count) throws IOException {
        byte[] block = new byte[1 << 16];
        for (long left = count; left > 0; left -= block.length) {
            out.write(block, 0, (int) Math.min(left, block.length));
        }
        out.flush();
    }

    /**
     * A simple reply, or one structured or extended chunk. {@code data} is the read payload or
     * chunk payload; {@code offset} an extended chunk's request offset (else -1).
     */
    record Reply(boolean simple, int error, int flags, int type, long cookie, byte[] data, long offset) {
        Reply(boolean simple, int error, int flags, int type, long cookie, byte[] data) {
            this(simple, error, flags, type, cookie, data, -1);
        }

        boolean done() {
            return simple || (flags & NbdProtocol.REPLY_FLAG_DONE) != 0;
        }

        /** The error of a simple reply, or of an ERROR/ERROR_OFFSET chunk; 0 otherwise. */
        int errorValue() {
            if (simple) {
                return error;
            }
            if ((type & 0x8000) != 0) {
                return ByteBuffer.wrap(data).getInt(0);
            }
            return 0;
        }

        ByteBuffer payload() {
            return ByteBuffer.wrap(data);
        }
    }

    Reply readReply() throws IOException {
        out.flush();
        int magic = in.readInt();
        if (magic == NbdProtocol.SIMPLE_REPLY_MAGIC) {
            int error = in.readInt();
            long cookie = in.readLong();
            Integer readLength = pendingSimpleReads.remove(cookie);
            byte[] data = new byte[error == 0 && readLength != null ? readLength : 0];
            in.readFully(data);
            return new Reply(true, error, 0, 0, cookie, data);
        }
        if (magic == NbdProtocol.STRUCTURED_REPLY_MAGIC) {
            int flags = in.readUnsignedShort();
            int type = in.readUnsignedShort();
            long cookie = in.readLong();
            byte[] data = new byte[in.readInt()];
            in.readFully(data);
            return new Reply(false, 0, flags, type, cookie, data);
        }
        if (magic == NbdProtocol.EXTENDED_REPLY_MAGIC) {
            int flags = in.readUnsignedShort();
            int type = in.readUnsignedShort();
            long cookie = in.readLong();
            long offset = in.readLong();
            long length = in.readLong();
            if (length < 0 || length > (64 << 20)) {
                throw new IOException("extended reply payload of " + Long.toUnsignedString(length) + " bytes");
            }
            byte[] data = new byte[(int) length];
            in.readFully(data);
            return new Reply(false, 0, flags, type, cookie, data, offset);
        }
        throw new IOException(String.format("bad reply magic %08x", magic));
    }

    /** Reads chunks up to and including the one with DONE; all must carry {@code cookie}. */
    List<Reply> readAll(long cookie) throws IOException {
        List<Reply> chunks = new ArrayList<>();
        Reply r;
        do {
            r = readReply();
            if (r.cookie() != cookie) {
                throw new IOException("reply for cookie " + r.cookie() + " while waiting for " + cookie);
            }
            chunks.add(r);
        } while (!r.done());
        return chunks;
    }

    /** Bytes of replies already arrived and not yet read (buffered, or waiting in the socket). */
    int arrived() throws IOException {
        return in.available();
    }

    /**
     * Reads the complete replies of {@code requests} requests, in whatever order the server
     * sends them (chunks of different requests may interleave), keyed by cookie.
     */
    Map<Long, List<Reply>> readReplies(int requests) throws IOException {
        Map<Long, List<Reply>> byCookie = new HashMap<>();
        int done = 0;
        while (done < requests) {
            Reply r = readReply();
            byCookie.computeIfAbsent(r.cookie(), k -> new ArrayList<>()).add(r);
            if (r.done()) {
                done++;
            }
        }
        return byCookie;
    }

    /** The first error in a complete reply, or 0. */
    static int errorOf(List<Reply> replies) {
        for (Reply r : replies) {
            if (r.errorValue() != 0) {
                return r.errorValue();
            }
        }
        return 0;
    }

    /** Sends one request and returns its error value (0 for success). */
    int command(int flags, int type, long cookie, long offset, long length, byte[] payload) throws IOException {
        send(flags, type, cookie, offset, length, payload);
        return errorOf(readAll(cookie));
    }

    void write(long offset, byte[] data) throws IOException {
        check(command(0, NbdProtocol.CMD_WRITE, 1, offset, data.length, data), "WRITE");
    }

    /** Reads a range, assembling OFFSET_DATA and OFFSET_HOLE chunks where structured. */
    byte[] read(long offset, int length) throws IOException {
        send(0, NbdProtocol.CMD_READ, 2, offset, length, null);
        return assemble(offset, length, readAll(2));
    }

    /** The bytes a successful READ reply describes; fails on an error or a gap. */
    static byte[] assemble(long offset, int length, List<Reply> replies) throws IOException {
        byte[] result = new byte[length];
        int errorValue = errorOf(replies);
        if (errorValue != 0) {
            throw new IOException("READ failed with error " + errorValue);
        }
        if (replies.size() == 1 && replies.getFirst().simple()) {
            return replies.getFirst().data();
        }
        long covered = 0;
        for (Reply r : replies) {
            ByteBuffer p = r.payload();
            switch (r.type()) {
                case NbdProtocol.REPLY_TYPE_OFFSET_DATA -> {
                    long at = p.getLong() - offset;
                    int n = p.remaining();
                    p.get(result, Math.toIntExact(at), n);
                    covered += n;
                }
                case NbdProtocol.REPLY_TYPE_OFFSET_HOLE -> {
                    covered += Integer.toUnsignedLong(p.getInt(8)); // zeroes already there
                }
                case NbdProtocol.REPLY_TYPE_NONE -> {}
                default -> throw new IOException("unexpected chunk type " + r.type());
            }
        }
        if (covered != length) {
            throw new IOException("READ chunks cover " + covered + " of " + length + " bytes");
        }
        return result;
    }

    private static void check(int error, String what) throws IOException {
        if (error != 0) {
            throw new IOException(what + " failed with error " + error);
        }
    }

    /** Sends NBD_CMD_DISC and flushes. */
    void disconnect() throws IOException {
        send(0, NbdProtocol.CMD_DISC, 0, 0, 0, null);
        out.flush();
    }

    /** Ends the client's output (TCP's FIN), as a client does once it sent its last bytes. */
    void shutdownOutput() throws IOException {
        out.flush();
        switch (socket) {
            case Socket s -> s.shutdownOutput();
            case SocketChannel c -> c.shutdownOutput();
            default -> throw new UnsupportedOperationException("no half-close over " + socket);
        }
    }

    /**
     * True if the server's side ends cleanly here (end of stream; over TLS after close_notify),
     * false if the connection was reset or a TLS session ended without close_notify; fails on data.
     */
    boolean endsCleanly() throws IOException {
        try {
            int b = in.read();
            if (b >= 0) {
                throw new IOException("expected the end of the stream, got byte " + b);
            }
            return true;
        } catch (SocketException e) {
            return false; // reset
        } catch (javax.net.ssl.SSLException | org.bouncycastle.tls.TlsNoCloseNotifyException e) {
            return false; // a TLS session's end without close_notify
        }
    }

    /** Everything the server sends until it closes the connection (at most {@code max} bytes). */
    byte[] readUntilClosed(int max) throws IOException {
        out.flush();
        java.io.ByteArrayOutputStream got = new java.io.ByteArrayOutputStream();
        try {
            int b;
            while (got.size() < max && (b = in.read()) >= 0) {
                got.write(b);
            }
        } catch (SocketException e) {
            // reset: what arrived before it is what the server sent
        }
        return got.toByteArray();
    }

    /**
     * True if the server closed the connection: the next read sees end of stream or a reset
     * (a server that closes with unread input resets). Fails on data or on a timeout.
     */
    boolean isDropped() throws IOException {
        try {
            out.flush();
        } catch (SocketException e) {
            return true; // already reset
        }
        try {
            int b = in.read();
            if (b >= 0) {
                throw new IOException("expected the connection to be dropped, got byte " + b);
            }
            return true;
        } catch (SocketTimeoutException e) {
            return false;
        } catch (EOFException | SocketException e) {
            return true;
        }
    }

    @Override
    public void close() throws IOException {
        socket.close();
    }
}
