package dev.faultdisk.client;

import dev.faultdisk.wire.json.Members;
import java.util.ArrayList;
import java.util.List;

/**
 * An export's breakpoints as {@code query-blkdebug-breakpoints} returns them.
 *
 * @param breakpoints breakpoints set and not yet hit
 * @param suspended   requests held now
 */
public record BlkdebugBreakpoints(List<Pending> breakpoints, List<Suspension> suspended) {

    /** A breakpoint waiting for a request. */
    public record Pending(String event, String tag) {}

    /** The requests held under {@code tag}. */
    public List<Suspension> suspended(String tag) {
        return suspended.stream().filter(s -> s.tag().equals(tag)).toList();
    }

    static BlkdebugBreakpoints from(Object value, String device) {
        Members m = Replies.object(value, "query-blkdebug-breakpoints reply");
        List<Pending> pending = new ArrayList<>();
        for (Object b : m.list("breakpoints")) {
            Members one = Replies.object(b, "breakpoints[]");
            pending.add(new Pending(one.string("event"), one.string("tag")));
        }
        List<Suspension> suspended = new ArrayList<>();
        for (Object s : m.list("suspended")) {
            suspended.add(Suspension.from(Replies.object(s, "suspended[]"), device));
        }
        return new BlkdebugBreakpoints(List.copyOf(pending), List.copyOf(suspended));
    }
}
