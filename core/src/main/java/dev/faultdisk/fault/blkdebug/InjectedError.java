package dev.faultdisk.fault.blkdebug;

/**
 * An error a rule injected into a request.
 *
 * @param operation the request (a FUA write fails at its flush check with {@code ioType} flush)
 * @param ioType    the check that failed
 * @param offset    the checked range's offset (0 for flush)
 * @param length    the checked range's length (0 for flush)
 * @param errno     the errno returned
 * @param rule      the rule that fired
 */
public record InjectedError(
        Operation operation, IoType ioType, long offset, long length, int errno, InjectErrorRule rule) {

    /** QEMU's BLOCK_IO_ERROR operation: "read" for reads and block status, "write" for everything else. */
    public String ioOperation() {
        return operation.isRead() ? "read" : "write";
    }
}
