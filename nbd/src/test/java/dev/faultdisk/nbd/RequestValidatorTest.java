package dev.faultdisk.nbd;

import static dev.faultdisk.nbd.NbdProtocol.CMD_BLOCK_STATUS;
import static dev.faultdisk.nbd.NbdProtocol.CMD_CACHE;
import static dev.faultdisk.nbd.NbdProtocol.CMD_FLAG_DF;
import static dev.faultdisk.nbd.NbdProtocol.CMD_FLAG_FAST_ZERO;
import static dev.faultdisk.nbd.NbdProtocol.CMD_FLAG_FUA;
import static dev.faultdisk.nbd.NbdProtocol.CMD_FLAG_NO_HOLE;
import static dev.faultdisk.nbd.NbdProtocol.CMD_FLAG_REQ_ONE;
import static dev.faultdisk.nbd.NbdProtocol.CMD_FLUSH;
import static dev.faultdisk.nbd.NbdProtocol.CMD_READ;
import static dev.faultdisk.nbd.NbdProtocol.CMD_TRIM;
import static dev.faultdisk.nbd.NbdProtocol.CMD_WRITE;
import static dev.faultdisk.nbd.NbdProtocol.CMD_WRITE_ZEROES;
import static dev.faultdisk.nbd.NbdProtocol.EINVAL;
import static dev.faultdisk.nbd.NbdProtocol.ENOSPC;
import static dev.faultdisk.nbd.NbdProtocol.EOVERFLOW;
import static dev.faultdisk.nbd.NbdProtocol.EPERM;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.faultdisk.device.BlockRequest;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.Test;

/** The NBD specification's rules for a request, one by one, without a socket. */
class RequestValidatorTest {
    private static final long SIZE = 1 << 20;

    private final AtomicBoolean readOnly = new AtomicBoolean();
    private final RequestValidator structured = new RequestValidator(SIZE, true, true, readOnly::get);
    private final RequestValidator simple = new RequestValidator(SIZE, false, false, readOnly::get);

    private static RequestHeader request(int type, int flags, long offset, long length) {
        RequestHeader h = new RequestHeader();
        h.type = type;
        h.flags = flags;
        h.offset = offset;
        h.length = length;
        return h;
    }

    @Test
    void everyCommandWithinTheExportAndWithFuaRuns() {
        for (int type : new int[] {CMD_READ, CMD_WRITE, CMD_TRIM, CMD_CACHE, CMD_WRITE_ZEROES, CMD_BLOCK_STATUS}) {
            assertEquals(0, structured.check(request(type, CMD_FLAG_FUA, SIZE - 4096, 4096)), "command " + type);
        }
        assertEquals(0, structured.check(request(CMD_FLUSH, CMD_FLAG_FUA, 0, 0)));
    }

    @Test
    void aFlagIsAcceptedOnlyOnTheCommandsItIsDefinedFor() {
        assertEquals(0, structured.check(request(CMD_READ, CMD_FLAG_DF, 0, 512)));
        assertEquals(EINVAL, simple.check(request(CMD_READ, CMD_FLAG_DF, 0, 512)), "DF needs structured replies");
        assertEquals(EINVAL, structured.check(request(CMD_WRITE, CMD_FLAG_DF, 0, 512)));
        assertEquals(0, structured.check(request(CMD_WRITE_ZEROES, CMD_FLAG_NO_HOLE | CMD_FLAG_FAST_ZERO, 0, 512)));
        assertEquals(EINVAL, structured.check(request(CMD_WRITE, CMD_FLAG_NO_HOLE, 0, 512)));
        assertEquals(EINVAL, structured.check(request(CMD_TRIM, CMD_FLAG_FAST_ZERO, 0, 512)));
        assertEquals(0, structured.check(request(CMD_BLOCK_STATUS, CMD_FLAG_REQ_ONE, 0, 512)));
        assertEquals(EINVAL, structured.check(request(CMD_READ, CMD_FLAG_REQ_ONE, 0, 512)));
        assertEquals(EINVAL, structured.check(request(CMD_READ, 1 << 7, 0, 512)), "an undefined flag");
    }

    @Test
    void unknownCommandsAndMalformedFlushesAreInvalid() {
        assertEquals(EINVAL, structured.check(request(9, 0, 0, 512)));
        assertEquals(EINVAL, structured.check(request(CMD_FLUSH, 0, 0, 512)));
        assertEquals(EINVAL, structured.check(request(CMD_FLUSH, 0, 4096, 0)));
    }

    @Test
    void blockStatusNeedsTheNegotiatedContextAndALength() {
        assertEquals(EINVAL, simple.check(request(CMD_BLOCK_STATUS, 0, 0, 512)));
        assertEquals(
                EINVAL,
                new RequestValidator(SIZE, true, false, readOnly::get).check(request(CMD_BLOCK_STATUS, 0, 0, 512)));
        assertEquals(EINVAL, structured.check(request(CMD_BLOCK_STATUS, 0, 0, 0)));
    }

    @Test
    void payloadsOverTheMaximumAreRefusedAsTheSpecSays() {
        long over = NbdProtocol.MAX_PAYLOAD + 1L;
        RequestValidator huge = new RequestValidator(1L << 40, true, true, readOnly::get);
        assertEquals(EOVERFLOW, huge.check(request(CMD_READ, 0, 0, over)));
        assertEquals(EINVAL, huge.check(request(CMD_WRITE, 0, 0, over)));
        assertEquals(0, huge.check(request(CMD_WRITE_ZEROES, 0, 0, over)), "no payload, no payload limit");
    }

    @Test
    void pastTheEndWritesGetEnospcAndEverythingElseEinval() {
        assertEquals(ENOSPC, structured.check(request(CMD_WRITE, 0, SIZE - 512, 1024)));
        assertEquals(ENOSPC, structured.check(request(CMD_WRITE_ZEROES, 0, SIZE, 1)));
        assertEquals(EINVAL, structured.check(request(CMD_READ, 0, SIZE - 512, 1024)));
        assertEquals(EINVAL, structured.check(request(CMD_TRIM, 0, SIZE + 1, 0)));
        assertEquals(EINVAL, structured.check(request(CMD_READ, 0, -1, 1)), "an offset past 2^63");
        assertEquals(EINVAL, structured.check(request(CMD_READ, 0, Long.MAX_VALUE, 512)));
        assertEquals(0, structured.check(request(CMD_READ, 0, SIZE, 0)), "empty, at the end");
    }

    @Test
    void extendedHeadersTakeSixtyFourBitLengthsAndThePayloadFlagOnWritesOnly() {
        RequestValidator extended = new RequestValidator(16L << 40, true, true, true, readOnly::get);
        int payload = NbdProtocol.CMD_FLAG_PAYLOAD_LEN;
        assertEquals(0, extended.check(request(CMD_WRITE_ZEROES, 0, 0, 5L << 30)), "past 32 bits");
        assertEquals(0, extended.check(request(CMD_TRIM, 0, 1L << 40, 15L << 40)));
        assertEquals(0, extended.check(request(CMD_BLOCK_STATUS, 0, 0, 16L << 40)));
        assertEquals(0, extended.check(request(CMD_WRITE, payload, 0, 512)));
        assertEquals(
                0, extended.check(request(CMD_WRITE, CMD_FLAG_FUA, 0, 512)), "a write without the flag still writes");
        for (int type : new int[] {CMD_READ, CMD_TRIM, CMD_WRITE_ZEROES, CMD_BLOCK_STATUS, CMD_CACHE, CMD_FLUSH}) {
            RequestHeader h = request(type, payload, 0, type == CMD_FLUSH ? 0 : 512);
            assertEquals(EINVAL, extended.check(h), "a payload on command " + type);
            assertTrue(extended.carriesPayload(h));
        }
        assertEquals(EINVAL, structured.check(request(CMD_WRITE, payload, 0, 512)), "the flag needs extended headers");
        assertTrue(structured.carriesPayload(request(CMD_WRITE, 0, 0, 512)));
        assertFalse(structured.carriesPayload(request(CMD_TRIM, payload, 0, 512)), "compact: only a write has one");
        for (long length : new long[] {-1L, Long.MIN_VALUE}) { // 2^64 - 1, 2^63: unsigned
            assertEquals(EINVAL, extended.check(request(CMD_TRIM, 0, 0, length)));
            assertEquals(ENOSPC, extended.check(request(CMD_WRITE_ZEROES, 0, 0, length)));
            assertEquals(EOVERFLOW, extended.check(request(CMD_READ, 0, 0, length)));
            assertEquals(EINVAL, extended.check(request(CMD_WRITE, payload, 0, length)));
        }
    }

    @Test
    void aReadOnlyExportRefusesWhatWouldChangeItWithEperm() {
        readOnly.set(true);
        assertEquals(EPERM, structured.check(request(CMD_WRITE, 0, 0, 512)));
        assertEquals(EPERM, structured.check(request(CMD_WRITE_ZEROES, 0, 0, 512)));
        assertEquals(EPERM, structured.check(request(CMD_TRIM, 0, 0, 512)));
        assertEquals(0, structured.check(request(CMD_READ, 0, 0, 512)));
        assertEquals(0, structured.check(request(CMD_FLUSH, 0, 0, 0)));
        assertEquals(0, structured.check(request(CMD_CACHE, 0, 0, 512)));
        readOnly.set(false);
        assertEquals(0, structured.check(request(CMD_WRITE, 0, 0, 512)), "asked per request");
    }

    @Test
    void cacheAndEmptyTrimsNeverReachTheDevice() {
        assertFalse(RequestValidator.reachesDevice(request(CMD_CACHE, 0, 0, 512)));
        assertFalse(RequestValidator.reachesDevice(request(CMD_TRIM, 0, 0, 0)));
        assertFalse(RequestValidator.reachesDevice(request(CMD_WRITE_ZEROES, 0, 0, 0)));
        assertTrue(RequestValidator.reachesDevice(request(CMD_TRIM, 0, 0, 1)));
        assertTrue(RequestValidator.reachesDevice(request(CMD_FLUSH, 0, 0, 0)));
    }

    @Test
    void eachNbdFlagBecomesItsBlockRequestFlag() {
        assertEquals(BlockRequest.Flag.FUA.bit(), RequestValidator.blockFlags(CMD_FLAG_FUA));
        assertEquals(BlockRequest.Flag.NO_HOLE.bit(), RequestValidator.blockFlags(CMD_FLAG_NO_HOLE));
        assertEquals(BlockRequest.Flag.FAST_ZERO.bit(), RequestValidator.blockFlags(CMD_FLAG_FAST_ZERO));
        assertEquals(BlockRequest.Flag.DF.bit(), RequestValidator.blockFlags(CMD_FLAG_DF));
        assertEquals(BlockRequest.Flag.REQ_ONE.bit(), RequestValidator.blockFlags(CMD_FLAG_REQ_ONE));
        assertEquals(0, RequestValidator.blockFlags(1 << 7), "an undefined NBD flag is no block flag");
    }
}
