package dev.faultdisk.interop;

import java.util.stream.Stream;

/**
 * The backends parameterized tests run on: memory and file, each served inline on the
 * connection's reader thread (the fast path) and off it, one virtual thread per request, which is
 * how the server runs when fault layers that may block are in the stack.
 */
final class Backends {
    private Backends() {}

    static Stream<String> all() {
        return Stream.of("memory", "file", "memory-offreader", "file-offreader");
    }
}
