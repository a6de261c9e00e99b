package dev.faultdisk.cli.campaign;

import java.util.List;

/** Records which blocks one node's export is asked to read and write during the trace run. */
interface Tracer {
    /** One traced request. */
    record Request(boolean write, long offset, long length) {}

    void start() throws Exception;

    /** Stops recording and returns the requests in the order they completed. */
    List<Request> stop() throws Exception;
}
