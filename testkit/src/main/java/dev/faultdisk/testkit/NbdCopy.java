package dev.faultdisk.testkit;

import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;

/** Runs nbdcopy (libnbd's copy tool) between local files and an NBD URI. */
public final class NbdCopy {
    /** The bound on one copy. */
    public static final Duration TIMEOUT = Duration.ofSeconds(60);

    private NbdCopy() {}

    /**
     * Copies {@code size} random bytes from {@code seed} to {@code uri} and back, through files in
     * {@code dir}, and asserts the bytes came back unchanged ({@code what} names the check).
     */
    public static void assertRoundTrip(Path dir, String uri, long seed, int size, String what) throws IOException {
        Path source = dir.resolve("source.raw");
        byte[] content = Images.writeRandom(source, seed, size);
        Command.run(TIMEOUT, "nbdcopy", source.toString(), uri).assertOk("nbdcopy in");
        Path back = dir.resolve("back.raw");
        Command.run(TIMEOUT, "nbdcopy", uri, back.toString()).assertOk("nbdcopy out");
        Images.assertSameBytes(content, back, what);
    }
}
