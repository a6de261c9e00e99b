package dev.faultdisk.nbd;

import java.io.IOException;
import java.io.OutputStream;

/**
 * The socket's output as Bouncy Castle writes records to it, sending a reply's records in
 * batches: Bouncy Castle writes and flushes each record (16 KiB at most) on its own, a system
 * call each, where the JDK's engine sends four at once. While a reply is written ({@link #cork}
 * to {@link #uncork}) the records {@link AeadRecordCipher} seals one after another into its array
 * gather here and go out together once {@link #BATCH} bytes wait, or when the cipher needs its
 * array's start again ({@link #drain}), or at the reply's end. Any other write (an alert, a
 * handshake message, a record in another array) sends what waits first, so the socket sees the
 * records in the order they were sealed. Closing flushes; the socket stays open for the
 * connection.
 */
final class RecordBatchOutput extends OutputStream {
    /** Bytes that wait before they are sent: four full records, as the JDK's engine sends them. */
    static final int BATCH = 4 * (16 * 1024);

    private final OutputStream out;
    /** The array the waiting records are in (the cipher's), and where they start and end. */
    private byte[] waiting;

    private int start;
    private int end;
    private boolean corked;

    RecordBatchOutput(OutputStream out) {
        this.out = out;
    }

    /** A reply's records are coming: they wait to go out together. */
    synchronized void cork() {
        corked = true;
    }

    /** The reply is written: what waits goes out. */
    synchronized void uncork() throws IOException {
        corked = false;
        drain();
    }

    /** Whether no record waits (the cipher may seal the next at its array's start). */
    synchronized boolean nothingWaiting() {
        return end == start;
    }

    /** Sends what waits (the cipher is about to write over its array's start). */
    synchronized void drain() throws IOException {
        if (end > start) {
            out.write(waiting, start, end - start);
        }
        waiting = null;
        start = end = 0;
    }

    @Override
    public synchronized void write(int b) throws IOException {
        drain();
        out.write(b);
    }

    @Override
    @SuppressWarnings("ReferenceEquality") // the same array, not equal contents: the next record in it
    public synchronized void write(byte[] b, int off, int len) throws IOException {
        if (corked && b == waiting && off == end) {
            end += len; // the next record, sealed right after the last
        } else if (corked && waiting == null) {
            waiting = b;
            start = off;
            end = off + len;
        } else {
            drain();
            out.write(b, off, len);
            return;
        }
        if (end - start >= BATCH) {
            drain();
        }
    }

    /** Bouncy Castle flushes after each record: only outside a reply does that send. */
    @Override
    public synchronized void flush() throws IOException {
        if (!corked) {
            drain();
            out.flush();
        }
    }

    @Override
    public synchronized void close() throws IOException {
        drain();
        out.flush();
    }
}
