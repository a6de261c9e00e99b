package dev.faultdisk.nbd;

import dev.faultdisk.export.Export;
import dev.faultdisk.export.ExportRegistry;
import dev.faultdisk.wire.net.TlsMode;
import java.io.ByteArrayOutputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.nio.BufferUnderflowException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import java.util.function.BooleanSupplier;

/**
 * The option-haggling state machine of fixed newstyle negotiation. Pure: each option (code and
 * data) goes in, reply bytes come out, and the outcome says whether to go on, start transmission
 * or close. Sockets are the caller's business.
 */
public final class Negotiation {

    /** What the connection does after an option. */
    public enum Outcome {
        CONTINUE,
        TRANSMIT,
        CLOSE,
        /** The STARTTLS ACK is in the replies: send it, then run the TLS handshake. */
        START_TLS
    }

    /** How much of a client's name an error message quotes. */
    private static final int QUOTED_BYTES = 256;

    private final ExportRegistry exports;
    private final boolean noZeroes;
    private final BooleanSupplier shuttingDown;
    private final TlsMode tlsMode;
    private boolean tls;

    private boolean structuredReplies;
    private boolean extendedHeaders;
    private boolean baseAllocation;
    private String metaContextExport;
    private Export export;
    private int transmissionFlags;

    public Negotiation(ExportRegistry exports, int clientFlags, BooleanSupplier shuttingDown) {
        this(exports, clientFlags, shuttingDown, TlsMode.OFF);
    }

    /** A negotiation where STARTTLS is refused ({@code off}), offered ({@code on}) or first of all required. */
    public Negotiation(ExportRegistry exports, int clientFlags, BooleanSupplier shuttingDown, TlsMode tlsMode) {
        this.exports = exports;
        this.noZeroes = (clientFlags & NbdProtocol.FLAG_C_NO_ZEROES) != 0;
        this.shuttingDown = shuttingDown;
        this.tlsMode = tlsMode;
    }

    /**
     * The TLS handshake after STARTTLS succeeded: what was negotiated in plaintext is forgotten,
     * as the spec asks (a man in the middle may have chosen it).
     */
    public void tlsStarted() {
        tls = true;
        structuredReplies = false;
        extendedHeaders = false;
        baseAllocation = false;
        metaContextExport = null;
    }

    /** Whether the session runs over TLS. */
    public boolean tls() {
        return tls;
    }

    /** The server's 18-byte greeting. */
    public static ByteBuffer greeting() {
        ByteBuffer b = ByteBuffer.allocate(18);
        b.putLong(NbdProtocol.NBDMAGIC).putLong(NbdProtocol.IHAVEOPT).putShort((short)
                (NbdProtocol.FLAG_FIXED_NEWSTYLE | NbdProtocol.FLAG_NO_ZEROES));
        return b.flip();
    }

    /** True if the client flags are ones this server understands (else the spec says: drop). */
    public static boolean acceptableClientFlags(int clientFlags) {
        return (clientFlags & ~(NbdProtocol.FLAG_C_FIXED_NEWSTYLE | NbdProtocol.FLAG_C_NO_ZEROES)) == 0;
    }

    public Export export() {
        return export;
    }

    /** Whether replies may be structured: structured replies or extended headers were negotiated. */
    public boolean structuredReplies() {
        return structuredReplies;
    }

    /** Whether extended headers were negotiated: 32-byte requests and replies, 64-bit lengths. */
    public boolean extendedHeaders() {
        return extendedHeaders;
    }

    /** True if base:allocation was selected for the export being served. */
    public boolean baseAllocation() {
        return baseAllocation;
    }

    public int transmissionFlags() {
        return transmissionFlags;
    }

    /** Handles one option; writes its replies to {@code out}. */
    public Outcome handle(int option, ByteBuffer data, ByteArrayOutputStream out) {
        try {
            DataOutputStream reply = new DataOutputStream(out);
            if (shuttingDown.getAsBoolean() && option != NbdProtocol.OPT_ABORT) {
                if (option == NbdProtocol.OPT_EXPORT_NAME) {
                    return Outcome.CLOSE;
                }
                error(reply, option, NbdProtocol.REP_ERR_SHUTDOWN, "server is shutting down");
                return Outcome.CONTINUE;
            }
            if (option == NbdProtocol.OPT_STARTTLS) {
                return startTls(data, reply);
            }
            if (tlsMode == TlsMode.REQUIRE && !tls && option != NbdProtocol.OPT_ABORT) {
                if (option == NbdProtocol.OPT_EXPORT_NAME) {
                    return Outcome.CLOSE; // it cannot carry an error
                }
                error(reply, option, NbdProtocol.REP_ERR_TLS_REQD, "TLS is required: send NBD_OPT_STARTTLS first");
                return Outcome.CONTINUE;
            }
            return switch (option) {
                case NbdProtocol.OPT_EXPORT_NAME -> exportName(data, reply);
                case NbdProtocol.OPT_ABORT -> {
                    reply(reply, option, NbdProtocol.REP_ACK, new byte[0]);
                    yield Outcome.CLOSE;
                }
                case NbdProtocol.OPT_LIST -> list(data, reply);
                case NbdProtocol.OPT_INFO, NbdProtocol.OPT_GO -> infoOrGo(option, data, reply);
                case NbdProtocol.OPT_STRUCTURED_REPLY -> {
                    if (data.hasRemaining()) {
                        error(reply, option, NbdProtocol.REP_ERR_INVALID, "STRUCTURED_REPLY takes no data");
                    } else if (extendedHeaders) {
                        // The spec's answer: extended headers cannot go back to compact ones.
                        error(
                                reply,
                                option,
                                NbdProtocol.REP_ERR_EXT_HEADER_REQD,
                                "extended headers are already on; they take precedence");
                    } else if (structuredReplies) {
                        // A duplicate: nbdkit and qemu-nbd refuse it too.
                        error(reply, option, NbdProtocol.REP_ERR_INVALID, "structured replies are already on");
                    } else {
                        structuredReplies = true;
                        reply(reply, option, NbdProtocol.REP_ACK, new byte[0]);
                    }
                    yield Outcome.CONTINUE;
                }
                case NbdProtocol.OPT_EXTENDED_HEADERS -> {
                    if (data.hasRemaining()) {
                        error(reply, option, NbdProtocol.REP_ERR_INVALID, "EXTENDED_HEADERS takes no data");
                    } else if (extendedHeaders) {
                        error(reply, option, NbdProtocol.REP_ERR_INVALID, "extended headers are already on");
                    } else {
                        extendedHeaders = true;
                        structuredReplies = true; // they imply structured replies
                        reply(reply, option, NbdProtocol.REP_ACK, new byte[0]);
                    }
                    yield Outcome.CONTINUE;
                }
                case NbdProtocol.OPT_LIST_META_CONTEXT, NbdProtocol.OPT_SET_META_CONTEXT ->
                    metaContext(option, data, reply);
                default -> {
                    error(reply, option, NbdProtocol.REP_ERR_UNSUP, "option " + option + " is not supported");
                    yield Outcome.CONTINUE;
                }
            };
        } catch (IOException e) {
            throw new IllegalStateException("writing to memory cannot fail", e);
        }
    }

    private Outcome startTls(ByteBuffer data, DataOutputStream reply) throws IOException {
        int option = NbdProtocol.OPT_STARTTLS;
        if (tlsMode == TlsMode.OFF) {
            error(reply, option, NbdProtocol.REP_ERR_POLICY, "TLS is not configured on this server");
        } else if (tls) {
            error(reply, option, NbdProtocol.REP_ERR_INVALID, "TLS is already on");
        } else if (data.hasRemaining()) {
            error(reply, option, NbdProtocol.REP_ERR_INVALID, "STARTTLS takes no data");
        } else {
            reply(reply, option, NbdProtocol.REP_ACK, new byte[0]);
            return Outcome.START_TLS;
        }
        return Outcome.CONTINUE;
    }

    private Outcome exportName(ByteBuffer data, DataOutputStream reply) throws IOException {
        Optional<Export> found = exports.find(string(data, data.remaining()));
        if (found.isEmpty() || extendedHeaders) {
            // EXPORT_NAME cannot carry an error: the spec says close. A client that took extended
            // headers must not send it (its reply has no room for them), and qemu-nbd closes too.
            return Outcome.CLOSE;
        }
        select(found.get());
        reply.writeLong(export.size());
        reply.writeShort(transmissionFlags);
        if (!noZeroes) {
            reply.write(new byte[124]);
        }
        return Outcome.TRANSMIT;
    }

    private Outcome list(ByteBuffer data, DataOutputStream reply) throws IOException {
        if (data.hasRemaining()) {
            error(reply, NbdProtocol.OPT_LIST, NbdProtocol.REP_ERR_INVALID, "LIST takes no data");
            return Outcome.CONTINUE;
        }
        for (Export e : exports.all()) {
            byte[] name = e.name().getBytes(StandardCharsets.UTF_8);
            byte[] description = e.description().getBytes(StandardCharsets.UTF_8);
            ByteBuffer payload = ByteBuffer.allocate(4 + name.length + description.length);
            payload.putInt(name.length).put(name).put(description);
            reply(reply, NbdProtocol.OPT_LIST, NbdProtocol.REP_SERVER, payload.array());
        }
        reply(reply, NbdProtocol.OPT_LIST, NbdProtocol.REP_ACK, new byte[0]);
        return Outcome.CONTINUE;
    }

    private Outcome infoOrGo(int option, ByteBuffer data, DataOutputStream reply) throws IOException {
        String name;
        List<Integer> requests = new ArrayList<>();
        try {
            int nameLength = data.getInt();
            if (nameLength < 0 || nameLength > data.remaining() - 2) {
                throw new BufferUnderflowException();
            }
            name = string(data, nameLength);
            int count = Short.toUnsignedInt(data.getShort());
            if (data.remaining() != count * 2) {
                throw new BufferUnderflowException();
            }
            for (int i = 0; i < count; i++) {
                requests.add(Short.toUnsignedInt(data.getShort()));
            }
        } catch (BufferUnderflowException e) {
            error(reply, option, NbdProtocol.REP_ERR_INVALID, "malformed INFO/GO request");
            return Outcome.CONTINUE;
        }
        Optional<Export> found = exports.find(name);
        if (found.isEmpty()) {
            error(reply, option, NbdProtocol.REP_ERR_UNKNOWN, "no export named " + quoted(name));
            return Outcome.CONTINUE;
        }
        Export candidate = found.get();
        int flags = flagsFor(candidate, option != NbdProtocol.OPT_INFO);
        ByteBuffer info = ByteBuffer.allocate(12);
        info.putShort((short) NbdProtocol.INFO_EXPORT).putLong(candidate.size()).putShort((short) flags);
        reply(reply, option, NbdProtocol.REP_INFO, info.array());
        if (requests.contains(NbdProtocol.INFO_NAME)) {
            textInfo(reply, option, NbdProtocol.INFO_NAME, candidate.name());
        }
        if (requests.contains(NbdProtocol.INFO_DESCRIPTION)) {
            textInfo(reply, option, NbdProtocol.INFO_DESCRIPTION, candidate.description());
        }
        ByteBuffer sizes = ByteBuffer.allocate(14);
        sizes.putShort((short) NbdProtocol.INFO_BLOCK_SIZE)
                .putInt(NbdProtocol.MIN_BLOCK)
                .putInt(NbdProtocol.PREFERRED_BLOCK)
                .putInt(NbdProtocol.MAX_PAYLOAD);
        reply(reply, option, NbdProtocol.REP_INFO, sizes.array());
        reply(reply, option, NbdProtocol.REP_ACK, new byte[0]);
        if (option == NbdProtocol.OPT_INFO) {
            return Outcome.CONTINUE;
        }
        select(candidate);
        return Outcome.TRANSMIT;
    }

    private Outcome metaContext(int option, ByteBuffer data, DataOutputStream reply) throws IOException {
        boolean set = option == NbdProtocol.OPT_SET_META_CONTEXT;
        if (set && !structuredReplies) {
            error(reply, option, NbdProtocol.REP_ERR_INVALID, "SET_META_CONTEXT needs structured replies first");
            return Outcome.CONTINUE;
        }
        String name;
        List<String> queries = new ArrayList<>();
        try {
            int nameLength = data.getInt();
            if (nameLength < 0 || nameLength > data.remaining() - 4) {
                throw new BufferUnderflowException();
            }
            name = string(data, nameLength);
            int count = data.getInt();
            for (int i = 0; i < count; i++) {
                int length = data.getInt();
                if (length < 0 || length > data.remaining()) {
                    throw new BufferUnderflowException();
                }
                queries.add(string(data, length));
            }
            if (data.hasRemaining() || count < 0) {
                throw new BufferUnderflowException();
            }
        } catch (BufferUnderflowException e) {
            error(reply, option, NbdProtocol.REP_ERR_INVALID, "malformed meta context request");
            return Outcome.CONTINUE;
        }
        if (exports.find(name).isEmpty()) {
            error(reply, option, NbdProtocol.REP_ERR_UNKNOWN, "no export named " + quoted(name));
            return Outcome.CONTINUE;
        }
        boolean match = set
                ? queries.contains(NbdProtocol.BASE_ALLOCATION)
                : queries.isEmpty() || queries.contains("base:") || queries.contains(NbdProtocol.BASE_ALLOCATION);
        if (match) {
            byte[] context = NbdProtocol.BASE_ALLOCATION.getBytes(StandardCharsets.UTF_8);
            ByteBuffer payload = ByteBuffer.allocate(4 + context.length);
            payload.putInt(set ? NbdProtocol.BASE_ALLOCATION_ID : 0).put(context);
            reply(reply, option, NbdProtocol.REP_META_CONTEXT, payload.array());
        }
        if (set) {
            baseAllocation = match;
            metaContextExport = name;
        }
        reply(reply, option, NbdProtocol.REP_ACK, new byte[0]);
        return Outcome.CONTINUE;
    }

    private void select(Export chosen) {
        export = chosen;
        transmissionFlags = flagsFor(chosen, true);
        if (baseAllocation && !sameExport(metaContextExport, chosen)) {
            baseAllocation = false; // contexts were negotiated for another export
        }
    }

    private boolean sameExport(String requested, Export chosen) {
        return requested != null
                && exports.find(requested).map(e -> e == chosen).orElse(false);
    }

    /** The transmission flags for {@code e}, as INFO tells them or as GO ({@code going}) sets them. */
    private int flagsFor(Export e, boolean going) {
        int flags = NbdProtocol.FLAG_HAS_FLAGS
                | NbdProtocol.FLAG_SEND_FLUSH
                | NbdProtocol.FLAG_SEND_FUA
                | NbdProtocol.FLAG_SEND_CACHE;
        if (e.isReadOnly()) {
            flags |= NbdProtocol.FLAG_READ_ONLY;
        } else {
            flags |= NbdProtocol.FLAG_SEND_TRIM | NbdProtocol.FLAG_SEND_WRITE_ZEROES | NbdProtocol.FLAG_SEND_FAST_ZERO;
        }
        if (e.device().isMultiConnSafe()) {
            flags |= NbdProtocol.FLAG_CAN_MULTI_CONN;
        }
        if (structuredReplies) {
            flags |= NbdProtocol.FLAG_SEND_DF;
        }
        if (extendedHeaders && ((baseAllocation && sameExport(metaContextExport, e)) || !going)) {
            // As qemu-nbd does: INFO says it whenever extended headers are on (contexts may be set
            // later), GO only when a context was, for without one there is no block status at all.
            flags |= NbdProtocol.FLAG_BLOCK_STATUS_PAYLOAD;
        }
        return flags;
    }

    /**
     * A client's name for a message, cut to {@value #QUOTED_BYTES} bytes: the spec's strings are
     * at most 4096 bytes, and a message quoting a name that long whole would be longer.
     */
    private static String quoted(String name) {
        String shown = new String(utf8Within(name, QUOTED_BYTES), StandardCharsets.UTF_8);
        return "'" + shown + (shown.length() < name.length() ? "...'" : "'");
    }

    /**
     * At most {@code max} bytes of {@code text}'s UTF-8, cut where a character starts: libnbd drops
     * the connection on a reply string longer than the spec's 4096 bytes.
     */
    static byte[] utf8Within(String text, int max) {
        byte[] bytes = text.getBytes(StandardCharsets.UTF_8);
        return bytes.length <= max ? bytes : Arrays.copyOf(bytes, characterStart(bytes, max));
    }

    /** The last index at or before {@code index} where a UTF-8 character starts. */
    private static int characterStart(byte[] utf8, int index) {
        int i = index;
        while (i > 0 && (utf8[i] & 0xC0) == 0x80) {
            i--;
        }
        return i;
    }

    private static String string(ByteBuffer data, int length) {
        byte[] bytes = new byte[length];
        data.get(bytes);
        return new String(bytes, StandardCharsets.UTF_8);
    }

    /** An NBD_REP_INFO whose payload is the info type and a UTF-8 string (name, description). */
    private static void textInfo(DataOutputStream out, int option, int infoType, String text) throws IOException {
        byte[] bytes = utf8Within(text, NbdProtocol.MAX_STRING);
        reply(
                out,
                option,
                NbdProtocol.REP_INFO,
                ByteBuffer.allocate(2 + bytes.length)
                        .putShort((short) infoType)
                        .put(bytes)
                        .array());
    }

    private static void reply(DataOutputStream out, int option, int type, byte[] payload) throws IOException {
        out.writeLong(NbdProtocol.OPTION_REPLY_MAGIC);
        out.writeInt(option);
        out.writeInt(type);
        out.writeInt(payload.length);
        out.write(payload);
    }

    private static void error(DataOutputStream out, int option, int type, String message) throws IOException {
        reply(out, option, type, utf8Within(message, NbdProtocol.MAX_STRING));
    }
}
