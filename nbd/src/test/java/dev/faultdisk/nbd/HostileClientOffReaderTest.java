package dev.faultdisk.nbd;

import java.io.IOException;

/** {@link HostileClientTest} with every request run on its own thread, as when a fault layer may block. */
class HostileClientOffReaderTest extends HostileClientTest {
    @Override
    LocalServer newServer(String... exports) throws IOException {
        return new LocalServer(true, exports);
    }
}
