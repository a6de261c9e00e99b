package dev.faultdisk.interop;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.faultdisk.testkit.CommandResult;
import dev.faultdisk.testkit.QemuIo;
import dev.faultdisk.testkit.Tools;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.io.UncheckedIOException;
import java.net.URISyntaxException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;

/**
 * QEMU's blkdebug is the judge: every case of {@code blkdebug-corpus/} runs through
 * {@code qemu-io -f raw blkdebug:CONF:local.img} and through a faultdisk export
 * {@code blkdebug:CONF:nbd.img} with {@code qemu-io -f raw nbd://...}; exit status, stdout,
 * stderr (timing figures masked) and the final image bytes must be identical.
 */
class BlkdebugDifferentialTest {
    private static final long IMAGE_SIZE = 4L << 20;
    /** "512 bytes, 1 ops; 00.00 sec (2.352 MiB/sec and 4816.7701 ops/sec)": keep sizes, mask timing. */
    private static final Pattern TIMING = Pattern.compile("(?m)^(.*, \\d+ ops); .*sec.*$");

    /** One corpus case: the configuration file text, qemu-io options and commands. */
    record Case(String name, String config, List<String> options, List<String> commands) {

        static Case read(Path file) throws IOException {
            String text = Files.readString(file, StandardCharsets.UTF_8);
            int marker = text.indexOf("\n--- qemu-io");
            if (marker < 0) {
                throw new IllegalArgumentException(file + ": no '--- qemu-io' line");
            }
            String config = text.substring(0, marker + 1);
            String[] rest = text.substring(marker + 1).split("\n");
            List<String> options = new ArrayList<>();
            for (String o : rest[0].substring("--- qemu-io".length()).trim().split("\\s+")) {
                if (!o.isEmpty()) {
                    options.add(o);
                }
            }
            List<String> commands = new ArrayList<>();
            for (String line : Arrays.asList(rest).subList(1, rest.length)) {
                String c = line.strip();
                if (!c.isEmpty() && !c.startsWith("#")) {
                    commands.add(c);
                }
            }
            if (commands.isEmpty()) {
                throw new IllegalArgumentException(file + ": no qemu-io commands");
            }
            return new Case(file.getFileName().toString(), config, options, commands);
        }
    }

    @TestFactory
    Stream<DynamicTest> faultdiskAgreesWithQemuBlkdebug() throws IOException, URISyntaxException {
        Path corpus = Path.of(getClass().getResource("/blkdebug-corpus").toURI());
        List<Path> files;
        try (Stream<Path> list = Files.list(corpus)) {
            files = list.filter(p -> p.toString().endsWith(".case")).sorted().toList();
        }
        assertTrue(files.size() >= 12, "corpus has " + files.size() + " cases");
        return files.stream().map(f -> DynamicTest.dynamicTest(f.getFileName().toString(), () -> run(Case.read(f))));
    }

    private static void run(Case c) throws IOException {
        Tools.require("qemu-io");
        Path dir = Files.createTempDirectory("blkdebug-diff");
        try {
            Path conf = dir.resolve("rules.conf");
            Files.writeString(conf, c.config(), StandardCharsets.UTF_8);
            Path localImage = sparseImage(dir.resolve("local.img"));
            Path nbdImage = sparseImage(dir.resolve("nbd.img"));

            CommandResult qemu = qemuIo(c, "blkdebug:" + conf + ":" + localImage);
            CommandResult faultdisk;
            try (TestServer server = new TestServer("d=blkdebug:" + conf + ":" + nbdImage)) {
                faultdisk = qemuIo(c, server.uri("d"));
            }
            String context =
                    c.name() + "\n--- QEMU blkdebug stdout:\n" + qemu.stdout() + "--- stderr:\n" + qemu.stderr()
                            + "--- faultdisk stdout:\n" + faultdisk.stdout() + "--- stderr:\n" + faultdisk.stderr();
            assertEquals(normalize(qemu.stdout()), normalize(faultdisk.stdout()), () -> "stdout differs: " + context);
            assertEquals(normalize(qemu.stderr()), normalize(faultdisk.stderr()), () -> "stderr differs: " + context);
            assertEquals(qemu.exit(), faultdisk.exit(), () -> "exit status differs: " + context);
            assertTrue(
                    Arrays.equals(Files.readAllBytes(localImage), Files.readAllBytes(nbdImage)),
                    () -> "image contents differ: " + context);
        } finally {
            try (Stream<Path> list = Files.list(dir)) {
                list.forEach(p -> {
                    try {
                        Files.delete(p);
                    } catch (IOException e) {
                        throw new UncheckedIOException(e);
                    }
                });
            }
            Files.delete(dir);
        }
    }

    private static CommandResult qemuIo(Case c, String target) {
        return QemuIo.run(c.options(), target, c.commands().toArray(String[]::new));
    }

    private static Path sparseImage(Path path) throws IOException {
        try (RandomAccessFile f = new RandomAccessFile(path.toFile(), "rw")) {
            f.setLength(IMAGE_SIZE);
        }
        return path;
    }

    static String normalize(String output) {
        return TIMING.matcher(output).replaceAll("$1; <timing>");
    }
}
