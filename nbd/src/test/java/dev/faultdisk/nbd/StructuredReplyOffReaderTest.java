package dev.faultdisk.nbd;

import java.io.IOException;

/** {@link StructuredReplyTest} with every request run on its own thread, as when a fault layer may block. */
class StructuredReplyOffReaderTest extends StructuredReplyTest {
    @Override
    LocalServer newServer(String... exports) throws IOException {
        return new LocalServer(true, exports);
    }
}
