package dev.faultdisk.nbd;

/** {@link StructuredReplyTest} with every request run on its own thread, as when a fault layer may block. */
class StructuredReplyOffReaderTest extends StructuredReplyTest {
    @Override
    public boolean offReader() {
        return true;
    }
}
