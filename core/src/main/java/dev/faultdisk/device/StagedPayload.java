package dev.faultdisk.device;

import java.io.IOException;
import java.nio.channels.FileChannel;

/**
 * A write's payload that a frontend has received whole but not copied into the process (held in
 * a kernel pipe, say): a medium backed by a file may move it there straight ({@link
 * BlockDevice#writeStaged}), one copy where reading it into a buffer and writing that costs two.
 */
public interface StagedPayload {

    /**
     * Writes the whole payload into the file at {@code offset}: through {@code fd}, a descriptor of
     * that file open for writing, or through {@code file}. Called at most once; the payload is
     * spent afterwards, written or not.
     */
    void writeTo(FileChannel file, int fd, long offset) throws IOException;
}
