package dev.faultdisk.nbd;

/** {@link WireModelTest} with every request run on its own thread, as when a fault layer may block. */
class WireModelOffReaderTest extends WireModelTest {
    @Override
    public boolean offReader() {
        return true;
    }
}
