package dev.faultdisk.device;

/**
 * What a frontend knows about the request running on the current thread and layers may want:
 * the client connection it came from, and whether it runs inline on the connection's reader
 * (where a layer must not block: see {@link BlockDevice#mayBlock()}). The NBD frontend sets it
 * once per reader thread and once per request thread, so the inline path pays nothing per
 * request. A thread no frontend set (an in-process caller) has no connection and may block.
 */
public final class RequestContext {
    /** The connection id of a thread no frontend set. */
    public static final long NO_CONNECTION = -1;

    private static final RequestContext NONE = new RequestContext(NO_CONNECTION, false);
    private static final ThreadLocal<RequestContext> CURRENT = new ThreadLocal<>();

    private final long connection;
    private final boolean inline;

    private RequestContext(long connection, boolean inline) {
        this.connection = connection;
        this.inline = inline;
    }

    /** Marks the current thread as serving {@code connection}, inline on its reader or not. */
    public static void enter(long connection, boolean inline) {
        CURRENT.set(new RequestContext(connection, inline));
    }

    /** Forgets what {@link #enter} set on the current thread. */
    public static void exit() {
        CURRENT.remove();
    }

    /** The context of the current thread. */
    public static RequestContext current() {
        RequestContext c = CURRENT.get();
        return c == null ? NONE : c;
    }

    /** The connection the current request came from, or {@link #NO_CONNECTION}. */
    public long connection() {
        return connection;
    }

    /** True if the request runs inline on a reader thread: blocking it would stall its connection. */
    public boolean inline() {
        return inline;
    }
}
