package dev.faultdisk.fault.blkdebug;

import static dev.faultdisk.fault.blkdebug.BlkdebugEvent.FLUSH_TO_DISK;
import static dev.faultdisk.fault.blkdebug.BlkdebugEvent.FLUSH_TO_OS;
import static dev.faultdisk.fault.blkdebug.BlkdebugEvent.PWRITEV;
import static dev.faultdisk.fault.blkdebug.BlkdebugEvent.PWRITEV_DONE;
import static dev.faultdisk.fault.blkdebug.BlkdebugEvent.PWRITEV_ZERO;
import static dev.faultdisk.fault.blkdebug.BlkdebugEvent.READ_AIO;
import static dev.faultdisk.fault.blkdebug.BlkdebugEvent.WRITE_AIO;

import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;

/**
 * Which events QEMU's blkdebug sees, in which order, and where the rule check sits, when qemu-io
 * (QEMU 7.2) performs each operation on {@code qemu-io -f raw blkdebug:CONF:raw.img}: the raw
 * format node fires {@code read_aio}/{@code write_aio} on its child, the generic write path fires
 * {@code pwritev}/{@code pwritev_zero} and {@code pwritev_done} on the blkdebug node, and the
 * format node's flush fires {@code flush_to_os} and, if it has unflushed writes,
 * {@code flush_to_disk}. A FUA write is emulated by QEMU as the write followed by that flush.
 * Measured, not guessed: docs/blkdebug-events.md has the table and the commands that showed it.
 */
public final class EventTable {
    private static final Map<Operation, List<Step>> STEPS = new EnumMap<>(Operation.class);

    static {
        STEPS.put(
                Operation.READ,
                List.of(Step.event(READ_AIO), Step.check(IoType.READ), Step.of(Step.Kind.IO, Step.When.IF_OK)));
        STEPS.put(Operation.WRITE, write(List.of(Step.event(WRITE_AIO), Step.event(PWRITEV)), IoType.WRITE, false));
        STEPS.put(Operation.WRITE_FUA, write(List.of(Step.event(WRITE_AIO), Step.event(PWRITEV)), IoType.WRITE, true));
        STEPS.put(Operation.WRITE_ZEROES, write(List.of(Step.event(PWRITEV_ZERO)), IoType.WRITE_ZEROES, false));
        STEPS.put(Operation.WRITE_ZEROES_FUA, write(List.of(Step.event(PWRITEV_ZERO)), IoType.WRITE_ZEROES, true));
        STEPS.put(Operation.TRIM, discard(false));
        STEPS.put(Operation.TRIM_FUA, discard(true));
        STEPS.put(Operation.FLUSH, flush());
        STEPS.put(
                Operation.BLOCK_STATUS,
                List.of(Step.check(IoType.BLOCK_STATUS), Step.of(Step.Kind.IO, Step.When.IF_OK)));
    }

    private EventTable() {}

    /** The full step sequence of an operation. */
    public static List<Step> steps(Operation op) {
        return STEPS.get(op);
    }

    /** Only the events an operation fires (on success, with every condition true), in order. */
    public static List<BlkdebugEvent> events(Operation op) {
        List<BlkdebugEvent> events = new ArrayList<>();
        for (Step s : STEPS.get(op)) {
            if (s.kind() == Step.Kind.EVENT) {
                events.add(s.event());
            }
        }
        return events;
    }

    /** write_aio/pwritev (or pwritev_zero), the check, the I/O, pwritev_done even after a failure; with FUA the flush. */
    private static List<Step> write(List<Step> before, IoType type, boolean fua) {
        List<Step> steps = new ArrayList<>(before);
        steps.add(Step.check(type));
        steps.add(Step.of(Step.Kind.IO, Step.When.IF_OK));
        steps.add(Step.event(PWRITEV_DONE, Step.When.ALWAYS));
        steps.add(Step.of(Step.Kind.DEVICE_WRITTEN, Step.When.ALWAYS));
        if (fua) {
            steps.addAll(flush());
        }
        steps.add(Step.of(Step.Kind.FORMAT_WRITTEN, Step.When.ALWAYS));
        return List.copyOf(steps);
    }

    /** Discard fires no event at all, only its check. */
    private static List<Step> discard(boolean fua) {
        List<Step> steps = new ArrayList<>();
        steps.add(Step.check(IoType.DISCARD));
        steps.add(Step.of(Step.Kind.IO, Step.When.IF_OK));
        steps.add(Step.of(Step.Kind.DEVICE_WRITTEN, Step.When.ALWAYS));
        if (fua) {
            steps.addAll(flush());
        }
        steps.add(Step.of(Step.Kind.FORMAT_WRITTEN, Step.When.ALWAYS));
        return List.copyOf(steps);
    }

    /**
     * flush_to_os always; flush_to_disk only if the format level was written since its last
     * successful flush; the check only if the blkdebug level was (QEMU skips a clean node's flush).
     */
    private static List<Step> flush() {
        return List.of(
                Step.of(Step.Kind.BEGIN_FORMAT_FLUSH, Step.When.IF_OK),
                Step.event(FLUSH_TO_OS),
                Step.event(FLUSH_TO_DISK, Step.When.IF_FORMAT_DIRTY),
                Step.of(Step.Kind.BEGIN_DEVICE_FLUSH, Step.When.IF_OK),
                Step.check(IoType.FLUSH, Step.When.IF_DEVICE_DIRTY),
                Step.of(Step.Kind.FLUSH_IO, Step.When.IF_OK));
    }
}
