package dev.faultdisk.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/** A man page for faultdisk and every subcommand, from the command tree, and valid for man(1). */
class ManPagesTest {

    @Test
    void everyCommandHasAPageWithItsOptionsAndExamples(@TempDir Path dir) throws IOException {
        List<Path> pages = ManPages.write(dir, "9.9.9");
        List<CommandLine> commands = ManPages.commands(Main.commandLine());
        assertEquals(commands.size(), pages.size());
        assertTrue(pages.size() >= 40, "pages: " + pages.size());
        for (CommandLine cl : commands) {
            Path page = dir.resolve(cl.getCommandSpec().qualifiedName("-") + ".1");
            String text = Files.readString(page);
            assertTrue(
                    text.startsWith(
                            ".TH \"" + cl.getCommandSpec().qualifiedName("-").toUpperCase(Locale.ROOT) + "\" 1 "),
                    page.toString());
            assertTrue(text.contains("\"faultdisk 9.9.9\""), page.toString());
            assertTrue(text.contains("\n.SH EXAMPLES\n"), page + " has examples");
            assertFalse(text.contains("${"), page + ": every default is filled in");
        }
        String wait = Files.readString(dir.resolve("faultdisk-break-wait.1"));
        assertTrue(wait.contains("faultdisk\\-break\\-wait \\- "), wait);
        assertTrue(wait.contains(".B \\-\\-qmp=HOST:PORT|unix:PATH\n"), wait);
        assertTrue(wait.contains(".SH EXIT STATUS\n"), wait);
        String top = Files.readString(dir.resolve("faultdisk.1"));
        assertTrue(top.contains(".B serve\n"), top);
        assertTrue(top.contains("See \\fBfaultdisk\\-serve\\fR(1)."), top);
    }

    @Test
    void roffTextIsEscaped() {
        assertEquals(
                "a\\ec \\-\\-x\n\\&.TH not a request\n\\&'neither",
                ManPages.text("a\\c --x\n.TH not a request\n'neither"));
    }

    @Test
    void groffRendersEveryPageWithoutAWarning(@TempDir Path dir) throws Exception {
        Path groff = Path.of("/usr/bin/groff");
        if (!Files.isExecutable(groff)) {
            // As testkit's Tools.require does: a visible skip, and a failure under CI.
            String missing = "groff is not installed (Debian package groff-base)";
            assertFalse("true".equals(System.getenv("CI")), missing);
            org.junit.jupiter.api.Assumptions.abort(missing);
        }
        for (Path page : ManPages.write(dir, "1.0")) {
            Process p = new ProcessBuilder(groff.toString(), "-man", "-Tutf8", "-ww", page.toString())
                    .redirectErrorStream(true)
                    .start();
            String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            assertTrue(p.waitFor(30, TimeUnit.SECONDS));
            assertEquals(0, p.exitValue(), page + ":\n" + out);
            assertFalse(out.contains("warning"), page + ":\n" + out);
        }
    }
}
