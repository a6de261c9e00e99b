package dev.faultdisk.junit;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

/** docs/JUNIT.md shows QemuIoExampleTest verbatim, so the documented example is one that runs. */
class JunitDocTest {

    @Test
    void theDocumentedExampleIsTheTestedOne() throws Exception {
        String doc = Files.readString(Path.of("../docs/JUNIT.md"));
        String example = Files.readString(Path.of("src/test/java/dev/faultdisk/junit/QemuIoExampleTest.java"));
        assertTrue(
                doc.contains("```java\n" + example + "```\n"),
                "docs/JUNIT.md must hold junit/src/test/java/dev/faultdisk/junit/QemuIoExampleTest.java verbatim");
    }
}
