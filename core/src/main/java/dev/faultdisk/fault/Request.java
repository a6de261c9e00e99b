package dev.faultdisk.fault;

/**
 * One request as fault rules see it.
 *
 * @param op         the operation
 * @param offset     byte offset (0 for flush)
 * @param length     byte count (0 for flush)
 * @param connection the client connection it came from, or -1 if unknown
 * @param inline     true if it runs inline on a connection's reader thread, where it must not block
 */
public record Request(Op op, long offset, long length, long connection, boolean inline) {
}
