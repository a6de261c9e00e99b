package dev.faultdisk.nbd;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The all-zero check that decides whether a read's reply may be a hole: one byte that is not zero
 * anywhere in the buffer's remaining bytes makes it false, bytes outside them do not count, and the
 * buffer's own position and limit are left as they were.
 */
class ZeroesTest {

    @ParameterizedTest
    @ValueSource(booleans = {false, true})
    void oneByteThatIsNotZeroAnywhereIsFound(boolean direct) {
        int size = (1 << 20) + 4096 + 5; // past the zero buffer's 1 MiB, and not a multiple of 8
        ByteBuffer data = direct ? ByteBuffer.allocateDirect(size) : ByteBuffer.allocate(size);
        assertTrue(Zeroes.isAllZero(data), "all zero");
        for (int at : new int[] {0, 1, 7, 8, 9, 4095, 1 << 20, size - 1}) {
            data.put(at, (byte) 0x40);
            assertFalse(Zeroes.isAllZero(data), "a byte at " + at);
            assertEquals(0, data.position(), "position kept");
            assertEquals(size, data.limit(), "limit kept");
            data.put(at, (byte) 0);
        }
        assertTrue(Zeroes.isAllZero(data), "all zero again");
    }

    @ParameterizedTest
    @ValueSource(ints = {0, 1, 7, 8, 9, 4096})
    void onlyTheRemainingBytesCount(int length) {
        ByteBuffer data = ByteBuffer.allocateDirect(length + 32);
        for (int i = 0; i < 16; i++) {
            data.put(i, (byte) 1); // before the position
            data.put(16 + length + i, (byte) 1); // at and past the limit
        }
        data.position(16).limit(16 + length);
        assertTrue(Zeroes.isAllZero(data), length + " zero bytes between others");
        if (length > 0) {
            data.put(16 + length - 1, (byte) 1);
            assertFalse(Zeroes.isAllZero(data), "the last remaining byte");
        }
        assertEquals(16, data.position());
        assertEquals(16 + length, data.limit());
    }
}
