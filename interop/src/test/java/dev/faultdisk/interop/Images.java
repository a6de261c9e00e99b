package dev.faultdisk.interop;

import org.junit.jupiter.api.Assertions;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.SplittableRandom;

/** Local raw images with seeded random content, and byte-exact comparison of images. */
final class Images {
    private Images() {
    }

    /** {@code size} bytes drawn from a SplittableRandom with {@code seed}. */
    static byte[] random(long seed, int size) {
        byte[] bytes = new byte[size];
        new SplittableRandom(seed).nextBytes(bytes);
        return bytes;
    }

    /** Writes {@code size} seeded random bytes to {@code file} and returns them. */
    static byte[] writeRandom(Path file, long seed, int size) throws IOException {
        byte[] bytes = random(seed, size);
        Files.write(file, bytes);
        return bytes;
    }

    /** Fails with the first differing offset unless {@code actual} holds exactly {@code expected}. */
    static void assertSameBytes(byte[] expected, byte[] actual, String what) {
        Assertions.assertEquals(expected.length, actual.length, what + ": length");
        int at = java.util.Arrays.mismatch(expected, actual);
        Assertions.assertEquals(-1, at, () -> what + ": first difference at offset " + at);
    }

    static void assertSameBytes(byte[] expected, Path actual, String what) throws IOException {
        assertSameBytes(expected, Files.readAllBytes(actual), what + " (" + actual + ")");
    }
}
