package dev.faultdisk.wire.net;

import java.io.Closeable;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.net.SocketException;
import java.nio.ByteBuffer;
import java.util.Arrays;
import java.util.concurrent.locks.ReentrantLock;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLEngineResult;
import javax.net.ssl.SSLException;
import javax.net.ssl.SSLParameters;

/**
 * The server end of a TLS session over a socket through the JDK's {@link SSLEngine}, as streams
 * for a {@link StreamChannel}. The JDK's {@code SSLSocket} keeps its record buffers once they
 * have grown (about 64 KiB a connection after large reads and writes: 640 MB for ten thousand
 * idle connections); an engine keeps none. Records come off the socket in bursts
 * ({@link RecordBuffer}) and are opened straight into the reader's array; replies are sealed
 * into an array lent while the connection is busy, several records to one system call. Both go
 * back while the connection waits idle, and when it ends. Reads come from the connection's
 * reader; writes, from any thread, one at a time (a lock, which handshake messages the reader
 * must answer, such as a key update, take too).
 */
final class EngineTls implements Closeable {
    /** Records sealed into one write: four full ones. */
    private static final int SEALED = 4 * RecordBuffer.MAX_RECORD;

    private static final ArrayPool SEALS = new ArrayPool(SEALED, 128);
    private static final ByteBuffer NOTHING = ByteBuffer.allocate(0);
    private static final boolean PREFER_X25519 =
            Boolean.parseBoolean(System.getProperty("faultdisk.tls.preferX25519", "true"));
    /**
     * Whether jdk.tls.disabledAlgorithms disables X25519: the engine left X25519 alone would then
     * find no group at all ("No common named group"). Read once, as the JDK reads its own.
     */
    private static final boolean X25519_DISABLED = DisabledAlgorithms.current().disables("x25519", "XDH");

    private final SSLEngine engine;
    private final Socket plain;
    private final OutputStream socketOut;
    private final RecordBuffer records;
    private final ReentrantLock writing = new ReentrantLock();
    /** Plaintext opened but not yet read (a record larger than the reader's array); lent, reader only. */
    private ByteBuffer opened;
    /** The array replies are sealed into, while lent (under {@link #writing}). */
    private byte[] sealed;

    /** Whether {@link #opened} and {@link #sealed} are lent now, for {@link Input#heldBytes} off their threads. */
    private volatile boolean openedLent;

    private volatile boolean sealedLent;
    private boolean inputEnded;
    private final Input input = new Input();
    private final Output output = new Output();
    /** Views of the reader's last array and of the record buffer's, kept to make no garbage a read. */
    private ByteBuffer readerView;

    private byte[] readerArray;
    private ByteBuffer recordView;
    private byte[] recordArray;

    private EngineTls(SSLEngine engine, Socket plain, byte[] early) throws IOException {
        this.engine = engine;
        this.plain = plain;
        this.socketOut = plain.getOutputStream();
        this.records = new RecordBuffer(plain.getInputStream(), early);
    }

    /**
     * Runs the server's handshake on {@code plain} ({@code early}: bytes already read from it),
     * bounded by {@code timeoutMillis}, and returns the session as a channel.
     */
    static StreamChannel accept(SSLEngine engine, Socket plain, byte[] early, int timeoutMillis) throws IOException {
        EngineTls tls = new EngineTls(engine, plain, early);
        boolean[] x25519 = new boolean[1];
        ChannelSocket.handshakeWithin(plain, timeoutMillis, () -> {
            x25519[0] = tls.takeX25519WhereShared();
            engine.beginHandshake();
            tls.handshake();
        });
        String session = engine.getSession().getProtocol() + " "
                + engine.getSession().getCipherSuite() + (x25519[0] ? " x25519" : "");
        return new StreamChannel(tls.input, tls.output, tls, session).endingOutputWith(tls::closeOutbound);
    }

    /**
     * Where the ClientHello carries an X25519 key share and TLS 1.3 will be agreed, leaves the
     * engine X25519 alone, so it takes that share rather than the client's first (GnuTLS's
     * clients send secp256r1's first): a key pair and an agreement cost under half as much in
     * the JDK, and a sixth with the nbd module's provider of Bouncy Castle's X25519. Not for TLS
     * 1.2, where the JDK would then refuse a certificate on P-256. Returns whether it did; another
     * ClientHello leaves the engine as it was.
     * {@code -Dfaultdisk.tls.preferX25519=false} turns it off, for comparison.
     */
    private boolean takeX25519WhereShared() throws IOException {
        if (!PREFER_X25519 || (!records.wholeRecord() && !records.fill())) {
            return false; // a client gone before its ClientHello: the handshake says so
        }
        ClientHelloOffer offer = ClientHelloOffer.read(records.array(), records.start(), records.end());
        SSLParameters params = engine.getSSLParameters();
        String[] groups = params.getNamedGroups();
        if (!offer.shares(ClientHelloOffer.X25519)
                || !offer.offersTls13()
                || !offer.offersAnyOf(tls13Suites(params.getCipherSuites()))
                || !Arrays.asList(params.getProtocols()).contains("TLSv1.3")
                || groups == null
                || !Arrays.asList(groups).contains("x25519")
                || X25519_DISABLED) {
            return false;
        }
        params.setNamedGroups(new String[] {"x25519"});
        engine.setSSLParameters(params);
        return true;
    }

    /** The codes of the TLS 1.3 suites among {@code names} (RFC 8446, B.4). */
    private static int[] tls13Suites(String[] names) {
        return Arrays.stream(names)
                .mapToInt(name -> switch (name) {
                    case "TLS_AES_128_GCM_SHA256" -> 0x1301;
                    case "TLS_AES_256_GCM_SHA384" -> 0x1302;
                    case "TLS_CHACHA20_POLY1305_SHA256" -> 0x1303;
                    default -> -1;
                })
                .filter(code -> code >= 0)
                .toArray();
    }

    /** Drives the handshake until it is over: the reader's work at the start, and after a message that asks for it. */
    private void handshake() throws IOException {
        while (true) {
            switch (engine.getHandshakeStatus()) {
                case NEED_TASK -> runTasks();
                case NEED_WRAP -> output.sealHandshake();
                case NEED_UNWRAP, NEED_UNWRAP_AGAIN -> {
                    if (!records.wholeRecord() && !records.fill()) {
                        throw new EOFException("the peer closed the connection during the TLS handshake");
                    }
                    openIntoOpened();
                }
                default -> {
                    return; // FINISHED, NOT_HANDSHAKING
                }
            }
        }
    }

    private void runTasks() {
        Runnable task;
        while ((task = engine.getDelegatedTask()) != null) {
            task.run();
        }
    }

    /** Opens the whole record buffered at the start into {@code dst}; the engine's result. */
    @SuppressWarnings("ReferenceEquality") // the same array, not an equal one: its view is reused
    private SSLEngineResult openInto(ByteBuffer dst) throws IOException {
        byte[] buf = records.array();
        if (recordArray != buf) {
            recordArray = buf;
            recordView = ByteBuffer.wrap(buf);
        }
        recordView.limit(records.end()).position(records.start());
        SSLEngineResult r = engine.unwrap(recordView, dst);
        records.consumed(r.bytesConsumed());
        if (r.getStatus() == SSLEngineResult.Status.CLOSED) {
            inputEnded = true;
        }
        return r;
    }

    /**
     * Opens the next record into {@link #opened} (lent now), behind what it holds still: the
     * plaintext of a record the reader's buffer has no room for, or that came with the handshake.
     * {@link #opened} is read from its position to its limit.
     */
    private SSLEngineResult openIntoOpened() throws IOException {
        if (opened == null) {
            opened = ByteBuffer.wrap(SEALS.take()).limit(0);
            openedLent = true;
        }
        opened.compact();
        try {
            return openInto(opened);
        } finally {
            opened.flip();
        }
    }

    /** Sends close_notify if no write is under way (else the socket's close ends it), then closes the socket. */
    @Override
    public void close() throws IOException {
        try {
            closeOutbound();
        } finally {
            plain.close();
        }
    }

    /** Sends close_notify if no write is under way; the socket stays open. */
    private void closeOutbound() {
        if (writing.tryLock()) {
            try {
                engine.closeOutbound();
                output.sealHandshakeLocked();
            } catch (IOException e) {
                // the peer is gone: nothing to tell it
            } finally {
                writing.unlock();
            }
        }
    }

    /** The session's input; {@link StreamChannel} reads it into its buffers directly. */
    final class Input extends InputStream implements IdleBuffers {
        @Override
        public int read() throws IOException {
            byte[] one = new byte[1];
            return read(one, 0, 1) < 0 ? -1 : one[0] & 0xff;
        }

        @Override
        @SuppressWarnings("ReferenceEquality") // the same array, not an equal one: its view is reused
        public int read(byte[] b, int off, int len) throws IOException {
            if (len == 0) {
                return 0;
            }
            if (readerArray != b) {
                readerArray = b;
                readerView = ByteBuffer.wrap(b);
            }
            return read(readerView.limit(off + len).position(off));
        }

        /**
         * Hands out what arrived into {@code dst} (heap or direct): at least a byte, waiting for
         * it, then only what is here already. Records are opened straight into {@code dst}.
         */
        int read(ByteBuffer dst) throws IOException {
            int start = dst.position();
            while (dst.hasRemaining()) {
                if (opened != null && opened.hasRemaining()) {
                    int n = Math.min(dst.remaining(), opened.remaining());
                    dst.put(dst.position(), opened, opened.position(), n);
                    dst.position(dst.position() + n);
                    opened.position(opened.position() + n);
                    continue;
                }
                if (inputEnded) {
                    break;
                }
                if (!records.wholeRecord()) {
                    if (dst.position() > start) {
                        break; // only what is here already
                    }
                    if (!records.fill()) {
                        inputEnded = true;
                        break;
                    }
                }
                SSLEngineResult r = openInto(dst);
                if (r.getStatus() == SSLEngineResult.Status.BUFFER_OVERFLOW) {
                    r = openIntoOpened(); // more than dst has room for: the rest waits there
                    if (r.getStatus() == SSLEngineResult.Status.BUFFER_OVERFLOW) {
                        throw new SSLException("a TLS record larger than the engine's application buffer");
                    }
                }
                if (r.getHandshakeStatus() != SSLEngineResult.HandshakeStatus.NOT_HANDSHAKING
                        && r.getHandshakeStatus() != SSLEngineResult.HandshakeStatus.FINISHED) {
                    handshake(); // a post-handshake message (a key update) asks for an answer
                }
            }
            int n = dst.position() - start;
            return n == 0 && inputEnded ? -1 : n;
        }

        @Override
        public int available() {
            return opened == null ? 0 : opened.remaining();
        }

        @Override
        public boolean releaseIdle() {
            if (opened != null && !opened.hasRemaining()) {
                SEALS.give(opened.array());
                opened = null;
                openedLent = false;
            }
            return records.releaseIdle() && opened == null;
        }

        @Override
        public boolean inputWaiting() {
            return (opened != null && opened.hasRemaining()) || records.inputWaiting();
        }

        @Override
        public long heldBytes() {
            return records.heldBytes() + (openedLent ? SEALED : 0) + (sealedLent ? SEALED : 0);
        }
    }

    /** The session's output; {@link StreamChannel} hands it its buffers directly. */
    final class Output extends OutputStream implements IdleBuffers, GatheringOutput {
        private ByteBuffer sealView;
        private ByteBuffer sourceView;
        private byte[] sourceArray;
        /** One buffer to seal from, for a single array or buffer (under the lock). */
        private final ByteBuffer[] single = new ByteBuffer[1];

        @Override
        public void write(int b) throws IOException {
            write(new byte[] {(byte) b}, 0, 1);
        }

        @Override
        @SuppressWarnings("ReferenceEquality") // the same array, not an equal one: its view is reused
        public void write(byte[] b, int off, int len) throws IOException {
            writing.lock();
            try {
                if (sourceArray != b) {
                    sourceArray = b;
                    sourceView = ByteBuffer.wrap(b);
                }
                single[0] = sourceView.limit(off + len).position(off);
                write(single, 0, 1);
            } finally {
                writing.unlock();
            }
        }

        /** Seals what {@code src} holds, as {@link #write(ByteBuffer[], int, int)}. */
        @Override
        public long write(ByteBuffer src) throws IOException {
            writing.lock();
            try {
                single[0] = src;
                return write(single, 0, 1);
            } finally {
                writing.unlock();
            }
        }

        /**
         * Seals what the buffers hold into records, gathered across them (a reply's header and a
         * small payload make one record), four records to a system call: no copy of the payload
         * before its encryption.
         */
        @Override
        public long write(ByteBuffer[] srcs, int offset, int length) throws IOException {
            writing.lock();
            try {
                long total = 0;
                for (int i = offset; i < offset + length; i++) {
                    total += srcs[i].remaining();
                }
                long left = total;
                while (left > 0) {
                    ByteBuffer out = seal();
                    while (left > 0 && out.remaining() >= RecordBuffer.MAX_RECORD) {
                        SSLEngineResult r = engine.wrap(srcs, offset, length, out);
                        if (r.getStatus() == SSLEngineResult.Status.CLOSED) {
                            throw new SocketException("the TLS session is closed");
                        }
                        if (r.getHandshakeStatus() == SSLEngineResult.HandshakeStatus.NEED_TASK) {
                            runTasks();
                        }
                        if (r.bytesConsumed() == 0 && r.bytesProduced() == 0) {
                            throw new SSLException("the TLS engine sealed nothing: " + r);
                        }
                        left -= r.bytesConsumed();
                    }
                    socketOut.write(sealed, 0, out.position());
                }
                return total;
            } finally {
                single[0] = null;
                writing.unlock();
            }
        }

        /** The lent array, as a cleared view. Under the lock. */
        private ByteBuffer seal() {
            if (sealed == null) {
                sealed = SEALS.take();
                sealedLent = true;
                sealView = ByteBuffer.wrap(sealed);
            }
            return sealView.clear();
        }

        /** Seals and sends what the handshake asks for (reader thread, or closing). */
        void sealHandshake() throws IOException {
            writing.lock();
            try {
                sealHandshakeLocked();
            } finally {
                writing.unlock();
            }
        }

        void sealHandshakeLocked() throws IOException {
            ByteBuffer out = seal();
            SSLEngineResult r;
            do {
                r = engine.wrap(NOTHING, out);
            } while (r.getHandshakeStatus() == SSLEngineResult.HandshakeStatus.NEED_WRAP
                    && r.getStatus() == SSLEngineResult.Status.OK
                    && r.bytesProduced() > 0
                    && out.remaining() >= RecordBuffer.MAX_RECORD);
            if (out.position() > 0) {
                socketOut.write(sealed, 0, out.position());
            }
        }

        /** Under the lock: the reader may be answering a key update, or the connection closing. */
        @Override
        public boolean releaseIdle() {
            writing.lock();
            try {
                if (sealed != null) {
                    SEALS.give(sealed);
                    sealed = null;
                    sealView = null;
                    sealedLent = false;
                }
                return true;
            } finally {
                writing.unlock();
            }
        }

        @Override
        public long heldBytes() {
            return 0; // counted with the input's
        }
    }
}
