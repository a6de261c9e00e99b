package dev.faultdisk.testkit;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Assertions;

/** Byte patterns and local raw images with seeded random content, and byte-exact comparison of images. */
public final class Images {
    private Images() {}

    /** {@code size} bytes, each {@code value}. */
    public static byte[] filled(int size, int value) {
        byte[] bytes = new byte[size];
        Arrays.fill(bytes, (byte) value);
        return bytes;
    }

    /** {@code size} bytes drawn from a SplittableRandom with {@code seed}. */
    public static byte[] random(long seed, int size) {
        byte[] bytes = new byte[size];
        new SplittableRandom(seed).nextBytes(bytes);
        return bytes;
    }

    /** Writes {@code size} seeded random bytes to {@code file} and returns them. */
    public static byte[] writeRandom(Path file, long seed, int size) throws IOException {
        byte[] bytes = random(seed, size);
        Files.write(file, bytes);
        return bytes;
    }

    /** Fails with the first differing offset unless {@code actual} holds exactly {@code expected}. */
    public static void assertSameBytes(byte[] expected, byte[] actual, String what) {
        Assertions.assertEquals(expected.length, actual.length, what + ": length");
        int at = Arrays.mismatch(expected, actual);
        Assertions.assertEquals(-1, at, () -> what + ": first difference at offset " + at);
    }

    /** {@link #assertSameBytes(byte[], byte[], String)} against a file's content. */
    public static void assertSameBytes(byte[] expected, Path actual, String what) throws IOException {
        assertSameBytes(expected, Files.readAllBytes(actual), what + " (" + actual + ")");
    }
}
