package dev.faultdisk.nbd;

import java.io.IOException;

/** {@link WireModelTest} with every request run on its own thread, as when a fault layer may block. */
class WireModelOffReaderTest extends WireModelTest {
    @Override
    LocalServer newServer(String... exports) throws IOException {
        return new LocalServer(true, exports);
    }
}
