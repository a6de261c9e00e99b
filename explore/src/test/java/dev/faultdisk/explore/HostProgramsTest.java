package dev.faultdisk.explore;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Finding host programs, and what a user is told about a missing one. */
class HostProgramsTest {
    @Test
    void aProgramOnThePathIsFoundAndExecutable() {
        assertNotNull(HostPrograms.find("sh"));
        assertTrue(Files.isExecutable(HostPrograms.find("sh")));
        assertNull(HostPrograms.find("faultdisk-no-such-program"));
    }

    @Test
    void theFirstMissingProgramIsNamedWithItsPackage() {
        assertNull(HostPrograms.missing(List.of("sh")));
        assertEquals(
                "faultdisk-no-such-program is not installed or not on PATH (Debian/Ubuntu: apt-get install"
                        + " faultdisk-no-such-program)",
                HostPrograms.missing(List.of("sh", "faultdisk-no-such-program", "sh")));
    }

    @Test
    void theUserIdIsKnownOnLinux() {
        assertEquals(
                "root".equals(System.getProperty("user.name")), HostPrograms.uid() == 0, "uid " + HostPrograms.uid());
    }
}
