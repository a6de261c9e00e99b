package dev.faultdisk.nbd;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.OutputStream;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Records written while a reply is corked go to the socket in batches, in the order written. */
class RecordBatchOutputTest {
    /** The socket's side: each write's bytes, one entry a write (a system call each). */
    private static final class Writes extends OutputStream {
        final List<byte[]> writes = new ArrayList<>();

        @Override
        public void write(int b) {
            writes.add(new byte[] {(byte) b});
        }

        @Override
        public void write(byte[] b, int off, int len) {
            writes.add(Arrays.copyOfRange(b, off, off + len));
        }

        byte[] all() {
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            writes.forEach(out::writeBytes);
            return out.toByteArray();
        }
    }

    @Test
    void recordsSealedOneAfterAnotherGoOutTogether() throws Exception {
        Writes socket = new Writes();
        RecordBatchOutput out = new RecordBatchOutput(socket);
        byte[] sealed = new byte[4 * 16 * 1024 + 100];
        new java.util.Random(5).nextBytes(sealed);
        int record = 16 * 1024 + 21;
        out.cork();
        for (int at = 0; at < 4 * record; at += record) {
            out.write(sealed, at, record);
            out.flush(); // as Bouncy Castle flushes each record: nothing goes while corked
        }
        // Four records pass the batch's size: they went out in one write.
        assertEquals(1, socket.writes.size());
        assertArrayEquals(Arrays.copyOf(sealed, 4 * record), socket.all());
        assertTrue(out.nothingWaiting());
        out.write(sealed, 0, 100); // a small reply's record: waits for the reply's end
        assertEquals(1, socket.writes.size());
        assertFalse(out.nothingWaiting());
        out.uncork();
        assertEquals(2, socket.writes.size());
        assertArrayEquals(Arrays.copyOf(sealed, 100), socket.writes.get(1));
    }

    @Test
    void anotherWriteSendsWhatWaitsFirst() throws Exception {
        Writes socket = new Writes();
        RecordBatchOutput out = new RecordBatchOutput(socket);
        byte[] sealed = {1, 2, 3, 4, 5, 6};
        byte[] alert = {21, 3, 3, 0, 2, 2, 40};
        out.cork();
        out.write(sealed, 0, 3);
        out.write(sealed, 3, 3);
        out.write(alert, 0, alert.length); // an alert from the reader, in an array of its own
        out.write(sealed, 0, 2); // not where the last ended: not gathered with what went
        out.uncork();
        assertEquals(3, socket.writes.size());
        assertArrayEquals(sealed, socket.writes.get(0));
        assertArrayEquals(alert, socket.writes.get(1));
        assertArrayEquals(new byte[] {1, 2}, socket.writes.get(2));
    }

    @Test
    void outsideAReplyEachWriteGoesAtOnce() throws Exception {
        Writes socket = new Writes();
        RecordBatchOutput out = new RecordBatchOutput(socket);
        byte[] handshake = {22, 3, 3, 0, 1, 9};
        out.write(handshake, 0, 3);
        out.write(handshake, 3, 3);
        assertEquals(2, socket.writes.size());
        out.cork();
        out.write(handshake, 0, 6);
        out.drain(); // the cipher needs its array's start again
        assertEquals(3, socket.writes.size());
        out.close();
        assertArrayEquals(new byte[] {22, 3, 3, 0, 1, 9, 22, 3, 3, 0, 1, 9}, socket.all());
    }
}
