package dev.faultdisk.fault.blkdebug;

import static dev.faultdisk.fault.blkdebug.BlkdebugEvent.READ_AIO;
import static dev.faultdisk.fault.blkdebug.BlkdebugEvent.WRITE_AIO;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.faultdisk.wire.Errno;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.EnumSet;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The configuration parser. Each refusal case below was checked against qemu-io 7.2 (Debian
 * qemu-utils), which refuses the same file; the accepted oddities were too.
 */
class BlkdebugConfigTest {

    private static List<Rule> parse(String text) {
        return BlkdebugConfig.parse(text, "test.conf");
    }

    private static void refused(String text, String messagePart) {
        BlkdebugConfigException e = assertThrows(BlkdebugConfigException.class, () -> parse(text), text);
        assertTrue(
                e.getMessage().contains(messagePart),
                () -> "message '" + e.getMessage() + "' lacks '" + messagePart + "'");
        assertTrue(e.getMessage().startsWith("test.conf"), e.getMessage());
    }

    @Test
    void documentationExample() {
        List<Rule> rules = parse("""
                [set-state]
                event = "write_aio"
                state = "1"
                new_state = "2"

                [inject-error]
                event = "write_aio"
                state = "2"
                errno = "5"
                """);
        assertEquals(
                List.of(InjectErrorRule.on(WRITE_AIO).withState(2).withErrno(5), new SetStateRule(WRITE_AIO, 1, 2)),
                rules,
                "inject-error rules come first, then set-state, each in file order");
    }

    @Test
    void defaultsAreQemus() {
        assertEquals(
                List.of(
                        new InjectErrorRule(READ_AIO, 0, IoType.DEFAULT, Errno.EIO, -1, false, false),
                        new SetStateRule(READ_AIO, 0, 0)),
                parse("[inject-error]\nevent = \"read_aio\"\n[set-state]\nevent = \"read_aio\"\n"));
    }

    @Test
    void everyOption() {
        assertEquals(
                List.of(new InjectErrorRule(WRITE_AIO, 3, EnumSet.of(IoType.WRITE_ZEROES), 28, 16, true, true)),
                parse("""
                        # a comment
                        [inject-error "first"]
                        event = "write_aio"
                        state = "3"
                        iotype = "write-zeroes"
                        errno = "28"
                        sector = "16"
                        once = "on"
                        immediately = "yes"
                        """));
    }

    @Test
    void qemuLexicalQuirks() {
        // tabs around '=', trailing junk after the closing quote, text after "]", CRLF line ends
        assertEquals(
                1,
                parse("[inject-error] trailing\n\tevent\t=\t\"read_aio\" junk\n")
                        .size());
        assertEquals(1, parse("[inject-error]\r\nevent = \"read_aio\"\r\n").size());
        assertEquals(1, parse("[inject-error]\nevent =\"read_aio\"\n").size());
        // a repeated key: the last one counts
        assertEquals(
                List.of(InjectErrorRule.on(WRITE_AIO)),
                parse("[inject-error]\nevent = \"read_aio\"\nevent = \"write_aio\"\n"));
        // numbers as strtoull reads them; booleans in QEMU's spellings
        InjectErrorRule r = (InjectErrorRule) parse(
                        "[inject-error]\nevent = \"read_aio\"\nstate = \"0x10\"\nerrno = \" 010\"\nsector = \"-1\"\nonce = \"y\"\nimmediately = \"false\"\n")
                .getFirst();
        assertEquals(16, r.state());
        assertEquals(8, r.errno());
        assertEquals(-1, r.sector());
        assertTrue(r.once());
        // an id given as a key, no file end newline
        assertEquals(
                1, parse("[inject-error]\nid = \"abc\"\nevent = \"read_aio\"").size());
        assertEquals(
                -1,
                ((SetStateRule) parse("[set-state]\nevent = \"read_aio\"\nnew_state = \"-1\"\n")
                                .getFirst())
                        .newState());
    }

    @Test
    void dottedPre29EventNamesAreAccepted() {
        assertEquals(
                BlkdebugEvent.L1_GROW_ALLOC_TABLE,
                parse("[inject-error]\nevent = \"l1_grow.alloc_table\"\n")
                        .getFirst()
                        .event());
        assertEquals(
                BlkdebugEvent.PWRITEV_RMW_AFTER_TAIL,
                parse("[set-state]\nevent = \"pwritev_rmw.after_tail\"\n")
                        .getFirst()
                        .event());
    }

    @Test
    void allFortyEightEventNamesParse() {
        assertEquals(48, BlkdebugEvent.values().length);
        for (BlkdebugEvent e : BlkdebugEvent.values()) {
            assertEquals(
                    e,
                    parse("[inject-error]\nevent = \"" + e.qapiName() + "\"\n")
                            .getFirst()
                            .event());
        }
    }

    @Test
    void refusesWhatQemuRefuses() {
        refused("[inject-error]\n", "Missing event name");
        refused("[inject-error]\nevent = \"\"\n", "invalid parameter value");
        refused("[inject-error]\nevent = \"READ_AIO\"\n", "invalid parameter value: READ_AIO");
        refused("[inject-error]\nevent = \"read_aio\"\niotype = \"Read\"\n", "invalid parameter value: Read");
        refused("[inject-error]\nevent = \"read_aio\"\niotype = \"read,write\"\n", "read,write");
        refused("[inject-error]\nevent = \"read_aio\"\nfoo = \"1\"\n", "Invalid parameter 'foo'");
        refused("[inject-error]\nevent=\"read_aio\"\n", "Invalid parameter 'event=\"read_aio\"'");
        refused("[inject-error]\nevent= \"read_aio\"\n", "Invalid parameter 'event='");
        refused("  [inject-error]\nevent = \"read_aio\"\n", "no group defined");
        refused("  # not a comment\n", "no group defined");
        refused("event = \"read_aio\"\n", "no group defined");
        refused("[]\n", "no group defined");
        refused("\n[inject-error]\n \n", "parse error");
        refused("[inject-error]\r\n\r\nevent = \"read_aio\"\r\n", "parse error");
        refused("[other]\n", "There is no option group 'other'");
        refused("[inject-error\nevent = \"read_aio\"\n", "There is no option group");
        refused(
                "[inject-error \"x\"]\nevent = \"read_aio\"\n[inject-error \"x\"]\nevent = \"read_aio\"\n",
                "Duplicate ID 'x' for inject-error");
        refused("[inject-error \"1x\"]\nevent = \"read_aio\"\n", "Parameter 'id' expects an identifier");
        refused("[inject-error]\nevent = \"read_aio\"\nstate = \"abc\"\n", "Parameter 'state' expects a number");
        refused("[inject-error]\nevent = \"read_aio\"\nstate = \"5 \"\n", "Parameter 'state' expects a number");
        refused("[inject-error]\nevent = \"read_aio\"\nstate = \"\"\n", "Parameter 'state' expects a number");
        refused("[inject-error]\nevent = \"read_aio\"\nstate = \"08\"\n", "Parameter 'state' expects a number");
        refused(
                "[inject-error]\nevent = \"read_aio\"\nerrno = \"99999999999999999999\"\n",
                "too large for parameter 'errno'");
        refused("[inject-error]\nevent = \"read_aio\"\nonce = \"1\"\n", "Parameter 'once' expects 'on' or 'off'");
        refused("[inject-error]\nevent = \"read_aio\"\nonce = \"ON\"\n", "Parameter 'once' expects 'on' or 'off'");
        refused("[inject-error]\nevent = \"read_aio\"\nnew_state = \"2\"\n", "Invalid parameter 'new_state'");
        refused("[set-state]\nevent = \"read_aio\"\nerrno = \"2\"\n", "Invalid parameter 'errno'");
        refused("[inject-error]\nevent = \"read_aio\n", "invalid parameter value: read_aio\\n");
        refused("[inject-error]\nevent = read_aio\n", "invalid parameter value: ");
        refused("[inject-error]\nonce\nevent = \"read_aio\"\n", "Parameter 'once' expects 'on' or 'off'");
    }

    @Test
    void refusesNegativeErrnoUnlikeQemu() {
        refused("[inject-error]\nevent = \"read_aio\"\nerrno = \"-5\"\n", "errno must be 0 or a positive");
    }

    @Test
    void errorsNameTheLine() {
        BlkdebugConfigException e = assertThrows(
                BlkdebugConfigException.class, () -> parse("[inject-error]\nevent = \"read_aio\"\n\nstate = \"x\"\n"));
        assertEquals(4, e.line());
        assertTrue(e.getMessage().startsWith("test.conf:4: "), e.getMessage());
    }

    @Test
    void longLinesAreReadInFgetsChunks() {
        // A 1023-character chunk ends the line; the rest is read as a line of its own.
        String padding = " ".repeat(1000);
        String line = padding + "event = \"read_aio\" " + "x".repeat(30) + "\n";
        BlkdebugConfigException e = assertThrows(BlkdebugConfigException.class, () -> parse("[inject-error]\n" + line));
        assertTrue(e.getMessage().contains("Invalid parameter 'xxxxx"), e.getMessage());
    }

    @Test
    void formatRoundTrips() {
        List<Rule> rules = List.of(
                InjectErrorRule.on(WRITE_AIO)
                        .withState(2)
                        .withIoType(IoType.FLUSH)
                        .withErrno(28)
                        .withSector(7)
                        .withOnce(true)
                        .withImmediately(true),
                InjectErrorRule.on(READ_AIO),
                new SetStateRule(WRITE_AIO, 1, 2));
        assertEquals(rules, parse(BlkdebugConfig.format(rules)));
    }

    @Test
    void loadsAFile() throws Exception {
        Path file = Files.createTempFile("blkdebug", ".conf");
        try {
            Files.writeString(file, "[inject-error]\nevent = \"read_aio\"\n");
            assertEquals(List.of(InjectErrorRule.on(READ_AIO)), BlkdebugConfig.load(file));
            Files.writeString(file, "[inject-error]\nevent = \"nope\"\n");
            BlkdebugConfigException e = assertThrows(BlkdebugConfigException.class, () -> BlkdebugConfig.load(file));
            assertTrue(e.getMessage().startsWith(file + ":2: "), e.getMessage());
        } finally {
            Files.deleteIfExists(file);
        }
    }
}
