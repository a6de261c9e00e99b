package dev.faultdisk.interop;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import dev.faultdisk.testkit.Command;
import dev.faultdisk.testkit.CommandResult;
import dev.faultdisk.testkit.ServeProcess;
import dev.faultdisk.testkit.Tools;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.FileTime;
import java.time.Duration;
import java.time.Instant;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * scripts/aot-cache.sh and the launcher's use of what it makes, as a user runs them: a training
 * run of a copy of the runnable jar under fio writes the JVM's ahead-of-time cache beside it;
 * {@code ./faultdisk serve} of that jar runs with the cache mapped (the JVM's own report,
 * {@code jcmd VM.info}) and serves a client; once the jar is newer than the cache, or when the
 * cache was made by another JDK, the launcher leaves it out, and a cache made for another jar is
 * not used, without a word on stderr.
 */
class AotCacheTest {
    private static final Path ROOT = Path.of("..").toAbsolutePath().normalize();
    private static final Path JAR = ROOT.resolve("cli/target/faultdisk.jar");
    private static final String JAVA_HOME = System.getProperty("java.home");

    @TempDir
    Path dir;

    @Test
    void aTrainedCacheIsMappedAndAStaleOrForeignOneIsLeftOutQuietly() throws Exception {
        Tools.require("fio", "nbdinfo");
        Path jar = dir.resolve("faultdisk.jar");
        Path cache = trainAndServe(jar, "fio", "fresh");

        // The jar rebuilt after the cache: the launcher gives no cache, the JVM its own class data.
        Files.setLastModifiedTime(jar, FileTime.from(Instant.now().plusSeconds(5)));
        String stale = serveAndReport(jar, "stale");
        assertFalse(stale.contains("AOTCache"), stale);
        assertTrue(stale.contains("CDS archive(s) mapped at"), stale);

        // A cache made by another JDK (its name in faultdisk.aot.jdk another): not offered.
        Files.setLastModifiedTime(jar, FileTime.from(Instant.now().minusSeconds(60)));
        Path jdk = dir.resolve("faultdisk.aot.jdk");
        String madeBy = Files.readString(jdk);
        assertTrue(madeBy.startsWith(Path.of(JAVA_HOME).toRealPath() + " "), madeBy);
        Files.writeString(jdk, "/opt/another-jdk " + madeBy.substring(madeBy.indexOf(' ') + 1));
        String otherJdk = serveAndReport(jar, "other-jdk");
        assertFalse(otherJdk.contains("AOTCache"), otherJdk);
        assertTrue(otherJdk.contains("CDS archive(s) mapped at"), otherJdk);
        Files.writeString(jdk, madeBy);

        // A cache newer than its jar but made for another one (a copy under another name): the
        // JVM refuses it and runs on, and the launcher keeps its messages off stderr.
        Path other = dir.resolve("other.jar");
        Files.copy(JAR, other);
        Files.copy(cache, dir.resolve("other.aot"));
        Files.copy(jdk, dir.resolve("other.aot.jdk"));
        Files.setLastModifiedTime(other, FileTime.from(Instant.now().minusSeconds(60)));
        String foreign = serveAndReport(other, "foreign");
        assertTrue(foreign.contains("-XX:AOTCache=" + dir.resolve("other.aot")), foreign);
        assertTrue(foreign.contains("CDS archive(s) not mapped"), foreign);
    }

    /**
     * Without fio (forced here with {@code AOT_TRAINER=warm-up}) the script trains on the
     * server's own {@code --warm-up}: a smaller cache, still mapped by the next start.
     */
    @Test
    void theServersOwnWarmUpTrainsACacheWithoutFio() throws Exception {
        Tools.require("nbdinfo");
        Path jar = dir.resolve("faultdisk.jar");
        trainAndServe(jar, "warm-up", "warm-up-trained");

        CommandResult refused = Command.run(
                Duration.ofMinutes(1),
                "env",
                "AOT_TRAINER=nonsense",
                "bash",
                ROOT.resolve("scripts/aot-cache.sh").toString(),
                jar.toString());
        assertEquals(2, refused.exit(), refused.stderr());
        assertTrue(refused.stderr().contains("AOT_TRAINER is fio or warm-up, not nonsense"), refused.stderr());
    }

    /**
     * Copies the build's jar to {@code jar}, makes its cache with scripts/aot-cache.sh and
     * {@code trainer}, and checks that a server started as {@code name} runs with it mapped;
     * returns the cache.
     */
    private Path trainAndServe(Path jar, String trainer, String name) throws IOException, InterruptedException {
        if (!Files.isRegularFile(JAR)) {
            fail(JAR + " is missing: build it first (./mvnw -pl cli -am package -DskipTests)");
        }
        Files.copy(JAR, jar, StandardCopyOption.COPY_ATTRIBUTES);
        Path cache = dir.resolve("faultdisk.aot");
        CommandResult trained = Command.run(
                Duration.ofMinutes(3),
                "env",
                "JAVA=" + Path.of(JAVA_HOME, "bin", "java"),
                "AOT_TRAINER=" + trainer,
                "bash",
                ROOT.resolve("scripts/aot-cache.sh").toString(),
                jar.toString());
        trained.assertOk("scripts/aot-cache.sh");
        assertTrue(trained.stdout().contains("aot-cache: " + cache), trained.stdout());
        assertTrue(Files.size(cache) > 1 << 20, "a cache of classes and profiles, not a stub: " + Files.size(cache));
        String mapped = serveAndReport(jar, name);
        assertTrue(mapped.contains("-XX:AOTCache=" + cache), mapped);
        assertTrue(mapped.contains("CDS archive(s) mapped at"), "the JVM runs with the cache mapped:\n" + mapped);
        return cache;
    }

    /**
     * Runs {@code ./faultdisk serve} of {@code jar}, reads one export's size with nbdinfo, and
     * returns {@code jcmd VM.info}'s lines on the command line and the class data, after checking
     * that the server's log says nothing of the cache.
     */
    private String serveAndReport(Path jar, String name) throws IOException, InterruptedException {
        Path log = dir.resolve(name + ".log");
        ProcessBuilder builder = new ProcessBuilder(
                ROOT.resolve("faultdisk").toString(),
                "serve",
                "--export",
                "a=memory:64M",
                "--nbd",
                "127.0.0.1:0",
                "--qmp",
                "127.0.0.1:0");
        builder.environment().put("FAULTDISK_JAR", jar.toString());
        builder.environment().put("FAULTDISK_JAVA_HOME", JAVA_HOME);
        builder.environment().remove("FAULTDISK_JAVA_OPTS");
        try (ServeProcess server = ServeProcess.startProcess(builder, log)) {
            CommandResult info = Command.run(Duration.ofSeconds(30), "nbdinfo", "--size", server.uri("a"));
            info.assertOk(name + ": nbdinfo");
            assertEquals("67108864", info.stdout().strip(), name);
            String vm = Command.run(
                            Duration.ofSeconds(60),
                            Path.of(JAVA_HOME, "bin", "jcmd").toString(),
                            Long.toString(server.pid()),
                            "VM.info")
                    .assertOk(name + ": jcmd VM.info")
                    .stdout();
            server.terminate(Duration.ofSeconds(20));
            String stderr = Files.readString(log);
            assertFalse(stderr.toLowerCase(java.util.Locale.ROOT).contains("aot"), name + ": " + stderr);
            return vm.lines()
                    .filter(l -> l.startsWith("Command Line:") || l.startsWith("CDS archive"))
                    .reduce("", (a, b) -> a + b + "\n");
        }
    }
}
