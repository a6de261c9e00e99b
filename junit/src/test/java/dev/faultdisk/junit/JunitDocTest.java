package dev.faultdisk.junit;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

/**
 * docs/JUNIT.md shows the example project examples/junit verbatim (its test and its POM), so the
 * documented example is one that builds and runs; CI builds that project on its own, against the
 * installed artifacts, as the page tells a user to.
 */
class JunitDocTest {
    private static final Path EXAMPLE = Path.of("../examples/junit");

    @Test
    void theDocumentedExampleIsTheTestedOne() throws Exception {
        String doc = Files.readString(Path.of("../docs/JUNIT.md"));
        String test = Files.readString(EXAMPLE.resolve("src/test/java/com/example/QemuIoExampleTest.java"));
        assertTrue(
                doc.contains("```java\n" + test + "```\n"),
                "docs/JUNIT.md must hold examples/junit/src/test/java/com/example/QemuIoExampleTest.java verbatim");
        String pom = Files.readString(EXAMPLE.resolve("pom.xml"));
        assertTrue(doc.contains("```xml\n" + pom + "```\n"), "docs/JUNIT.md must hold examples/junit/pom.xml verbatim");
    }

    @Test
    void theExampleDependsOnFaultdiskJunitAloneAndUsesNothingInternal() throws Exception {
        String pom = Files.readString(EXAMPLE.resolve("pom.xml"));
        assertTrue(pom.contains("<artifactId>faultdisk-junit</artifactId>"), pom);
        // One faultdisk artifact, no test-jar, nothing of this repository's own test kit.
        assertTrue(
                pom.indexOf("<groupId>dev.faultdisk</groupId>") == pom.lastIndexOf("<groupId>dev.faultdisk</groupId>"),
                pom);
        assertTrue(!pom.contains("test-jar") && !pom.contains("<parent>"), pom);
        String test = Files.readString(EXAMPLE.resolve("src/test/java/com/example/QemuIoExampleTest.java"));
        assertTrue(!test.contains("testkit") && !test.contains("awaitility"), "imports only the published API");
    }
}
