package dev.faultdisk.device;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;

/**
 * A write's payload that a frontend has received whole but not copied into the process (held in
 * a kernel pipe, say): a medium backed by a file may move it there straight ({@link
 * BlockDevice#writeStaged}), and a memory medium read it straight into its pages, one copy where
 * reading it into a buffer and writing that costs two. A payload is taken one way only.
 */
public interface StagedPayload {

    /**
     * Writes the whole payload into the file at {@code offset}: through {@code fd}, a descriptor of
     * that file open for writing, or through {@code file}. Called at most once; the payload is
     * spent afterwards, written or not.
     */
    void writeTo(FileChannel file, int fd, long offset) throws IOException;

    /**
     * Moves the payload's next {@code dst.remaining()} bytes into {@code dst} (a memory medium's
     * pages, a run of them at a time), in order; the payload is spent once all of it is taken.
     */
    void readInto(ByteBuffer dst) throws IOException;
}
