package dev.faultdisk.nbd;

import java.io.IOException;

/**
 * How a wire-level test starts its server: with requests on the reader thread, or, where a
 * subclass says {@link #offReader()}, each on a thread of its own, as when a fault layer may block.
 */
interface ServerUnderTest {
    default boolean offReader() {
        return false;
    }

    default LocalServer newServer(String... exports) throws IOException {
        return new LocalServer(offReader(), exports);
    }
}
