package dev.faultdisk.cache;

/** A byte range {@code [offset, offset + length)} of a device. */
public record ByteRange(long offset, long length) {

    public ByteRange {
        if (offset < 0 || length < 0) {
            throw new IllegalArgumentException("bad range: offset " + offset + ", length " + length);
        }
    }

    public long end() {
        return offset + length;
    }

    @Override
    public String toString() {
        return "[" + offset + ", " + end() + ")";
    }
}
