package dev.faultdisk.nbd;

/** {@link ExtendedHeadersTest} with every request run on its own thread, as when a fault layer may block. */
class ExtendedHeadersOffReaderTest extends ExtendedHeadersTest {
    @Override
    public boolean offReader() {
        return true;
    }
}
