package dev.faultdisk.fault;

import dev.faultdisk.filemap.FileTarget;
import dev.faultdisk.wire.BlockOp;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Which requests a fault rule or a trigger condition is about: operations, a byte range or a
 * file, and a connection. A flush has no range, so it is in scope whatever the range.
 *
 * @param ops        operations
 * @param offset     start of the byte range
 * @param end        end of the byte range (exclusive); a request overlapping it is in scope
 * @param connection only requests from this NBD connection, or -1
 * @param file       the file (and range in it) aimed at instead of a byte range, or null
 */
public record RequestScope(Set<BlockOp> ops, long offset, long end, long connection, FileTarget file) {

    public RequestScope {
        ops = Set.copyOf(ops);
    }

    /** A request of {@code op} over {@code length} bytes at {@code at}, from connection {@code from}, is in scope. */
    public boolean fits(BlockOp op, long at, long length, long from) {
        if (!ops.contains(op)) {
            return false;
        }
        if (connection >= 0 && from != connection) {
            return false;
        }
        if (op == BlockOp.FLUSH) {
            return true;
        }
        if (file != null) {
            return file.overlaps(at, length);
        }
        return at < end && at + Math.max(1, length) > offset;
    }

    /** Puts the operations and the file or byte range (left out when it ends at {@code wholeEnd} from 0) into {@code m}. */
    public void describeTarget(Map<String, Object> m, long wholeEnd) {
        List<String> names = new ArrayList<>();
        for (BlockOp op : BlockOp.values()) {
            if (ops.contains(op)) {
                names.add(op.wireName());
            }
        }
        m.put("ops", names);
        if (file != null) {
            m.putAll(file.describe());
        } else if (offset != 0 || end != wholeEnd) {
            m.put("offset", offset);
            m.put("length", end - offset);
        }
    }
}
