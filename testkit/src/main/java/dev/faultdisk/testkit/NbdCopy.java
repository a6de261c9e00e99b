package dev.faultdisk.testkit;

import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

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
        copy(source.toString(), uri);
        Path back = dir.resolve("back.raw");
        copy(uri, back.toString());
        Images.assertSameBytes(content, back, what);
    }

    /** Copies {@code from} to {@code to} (a local file or an NBD URI each) with {@code options}; fails unless it succeeds. */
    public static void copy(String from, String to, String... options) {
        List<String> command = new ArrayList<>(List.of("nbdcopy"));
        command.addAll(List.of(options));
        command.addAll(List.of(from, to));
        Command.run(TIMEOUT, command.toArray(String[]::new)).assertOk("nbdcopy " + from + " " + to);
    }
}
