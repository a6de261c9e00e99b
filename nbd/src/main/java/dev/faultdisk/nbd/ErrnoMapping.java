package dev.faultdisk.nbd;

import dev.faultdisk.wire.Errno;

/**
 * Maps a device errno to the NBD error value sent to the client. NBD carries only eight values;
 * the rest map as the spec directs: EDQUOT and EFBIG become ENOSPC, EROFS becomes EPERM, and
 * anything else becomes EINVAL, the value the spec tells clients to assume for an unknown error.
 */
public final class ErrnoMapping {
    private ErrnoMapping() {}

    /**
     * The NBD error for {@code errno}. ENOTSUP survives only for fast-zero requests and EOVERFLOW
     * only for DF reads; elsewhere both become EINVAL.
     */
    public static int toNbd(int errno, boolean fastZero, boolean dfRead) {
        return switch (errno) {
            case Errno.EPERM, Errno.EROFS -> NbdProtocol.EPERM;
            case Errno.EIO -> NbdProtocol.EIO;
            case Errno.ENOMEM -> NbdProtocol.ENOMEM;
            case Errno.ENOSPC, Errno.EDQUOT, Errno.EFBIG -> NbdProtocol.ENOSPC;
            case Errno.ESHUTDOWN -> NbdProtocol.ESHUTDOWN;
            case Errno.ENOTSUP -> fastZero ? NbdProtocol.ENOTSUP : NbdProtocol.EINVAL;
            case Errno.EOVERFLOW -> dfRead ? NbdProtocol.EOVERFLOW : NbdProtocol.EINVAL;
            default -> NbdProtocol.EINVAL;
        };
    }
}
