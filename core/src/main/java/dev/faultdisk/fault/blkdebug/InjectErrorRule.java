package dev.faultdisk.fault.blkdebug;

import dev.faultdisk.wire.Errno;
import java.util.Collections;
import java.util.EnumSet;
import java.util.Objects;
import java.util.Set;

/**
 * blkdebug's {@code inject-error} rule. When {@link #event()} fires in {@link #state()}, the rule
 * becomes active (replacing the rules other events activated before); from then on every request
 * of one of {@link #ioTypes()} that touches {@link #sector()} fails with {@link #errno()}, until
 * another event activates a different set or, with {@link #once()}, the rule fires once and is
 * deleted.
 *
 * @param event       the event that activates the rule
 * @param state       the state it must fire in, or {@link Rule#ANY_STATE}
 * @param ioTypes     the request types that fail (QEMU takes one type per rule; default
 *                    {@link IoType#DEFAULT}, i.e. everything but block-status)
 * @param errno       the error to return; 0 makes a matching rule let requests pass (and hide
 *                    the rules after it)
 * @param sector      the 512-byte sector whose first byte a request must cover, or -1 for any
 *                    request; flush covers no byte, so only -1 fails it. Values below -1 never
 *                    match, as in QEMU.
 * @param once        delete the rule after it failed one request
 * @param immediately QEMU fails the request without first yielding to its event loop; in
 *                    faultdisk both ways fail the request at once (there is no event loop to yield
 *                    to), so this only travels along for reporting
 */
public record InjectErrorRule(
        BlkdebugEvent event, int state, Set<IoType> ioTypes, int errno, long sector, boolean once, boolean immediately)
        implements Rule {

    /** The sector value meaning "any request". */
    public static final long ANY_SECTOR = -1;

    public InjectErrorRule {
        Objects.requireNonNull(event, "inject-error rule needs an event");
        Objects.requireNonNull(ioTypes, "ioTypes");
        if (ioTypes.isEmpty()) {
            throw new IllegalArgumentException("inject-error rule needs at least one iotype");
        }
        ioTypes = Collections.unmodifiableSet(EnumSet.copyOf(ioTypes));
        if (errno < 0) {
            // QEMU would turn a negative errno into a "successful" request that skipped its I/O.
            throw new IllegalArgumentException("errno must be 0 (no error) or a positive errno value, not " + errno);
        }
    }

    /** A rule with QEMU's defaults: any state, {@link IoType#DEFAULT}, EIO, any sector, not once. */
    public static InjectErrorRule on(BlkdebugEvent event) {
        return new InjectErrorRule(event, ANY_STATE, IoType.DEFAULT, Errno.EIO, ANY_SECTOR, false, false);
    }

    public InjectErrorRule withState(int newState) {
        return new InjectErrorRule(event, newState, ioTypes, errno, sector, once, immediately);
    }

    public InjectErrorRule withIoTypes(Set<IoType> types) {
        return new InjectErrorRule(event, state, types, errno, sector, once, immediately);
    }

    public InjectErrorRule withIoType(IoType type) {
        return withIoTypes(EnumSet.of(type));
    }

    public InjectErrorRule withErrno(int newErrno) {
        return new InjectErrorRule(event, state, ioTypes, newErrno, sector, once, immediately);
    }

    public InjectErrorRule withSector(long newSector) {
        return new InjectErrorRule(event, state, ioTypes, errno, newSector, once, immediately);
    }

    public InjectErrorRule withOnce(boolean newOnce) {
        return new InjectErrorRule(event, state, ioTypes, errno, sector, newOnce, immediately);
    }

    public InjectErrorRule withImmediately(boolean newImmediately) {
        return new InjectErrorRule(event, state, ioTypes, errno, sector, once, newImmediately);
    }

    /**
     * True if a request of {@code type} over {@code [offset, offset+bytes)} is one this rule fails,
     * exactly as QEMU's {@code rule_check} compares: the byte {@code sector*512} must lie in the
     * range (unsigned 64-bit comparison, so a zero-length request or a negative sector never
     * matches), unless the sector is -1.
     */
    public boolean matches(IoType type, long offset, long bytes) {
        return ioTypes.contains(type) && covers(sector, offset, bytes);
    }

    static boolean covers(long sector, long offset, long bytes) {
        if (sector == ANY_SECTOR) {
            return true;
        }
        long at = sector * 512; // wraps like QEMU's int64 multiplication
        return bytes != 0 && Long.compareUnsigned(at, offset) >= 0 && Long.compareUnsigned(at, offset + bytes) < 0;
    }

    @Override
    public String typeName() {
        return "inject-error";
    }

    @Override
    public String toString() {
        StringBuilder sb = new StringBuilder("inject-error(event=").append(event);
        if (state != ANY_STATE) {
            sb.append(", state=").append(state);
        }
        if (!ioTypes.equals(IoType.DEFAULT)) {
            sb.append(", iotype=").append(ioTypes);
        }
        sb.append(", errno=").append(errno);
        if (sector != ANY_SECTOR) {
            sb.append(", sector=").append(sector);
        }
        if (once) {
            sb.append(", once");
        }
        if (immediately) {
            sb.append(", immediately");
        }
        return sb.append(')').toString();
    }
}
