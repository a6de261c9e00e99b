package dev.faultdisk.nbd;

/** {@link HostileClientTest} with every request run on its own thread, as when a fault layer may block. */
class HostileClientOffReaderTest extends HostileClientTest {
    @Override
    public boolean offReader() {
        return true;
    }
}
