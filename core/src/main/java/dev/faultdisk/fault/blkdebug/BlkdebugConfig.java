package dev.faultdisk.fault.blkdebug;

import dev.faultdisk.wire.Errno;
import dev.faultdisk.wire.FileErrors;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Reads blkdebug's configuration file format exactly as QEMU 7.2 reads it
 * ({@code qemu_config_parse} plus blkdebug's {@code add_rule}), so that existing files work
 * unchanged and files QEMU refuses are refused here too:
 * <ul>
 *   <li>the file is read in {@code fgets} chunks of at most 1023 characters; a chunk starting
 *       with a newline is skipped, one starting with {@code #} is a comment (only in column 0);</li>
 *   <li>{@code [inject-error]}, {@code [set-state]} or {@code [GROUP "id"]} opens a section;
 *       anything after the closing bracket is ignored;</li>
 *   <li>any other line is {@code key = "value"}: its first word (up to 63 characters) is the key;
 *       the value is what follows {@code = "} up to the next quote, or empty if the line has no
 *       such part (so {@code key="v"} is the key {@code key="v"} with an empty value); a line of
 *       only white space is a parse error; a repeated key replaces the earlier value;</li>
 *   <li>keys, numbers ({@code strtoull} base 0: decimal, 0x hex, 0 octal, sign allowed), booleans
 *       ({@code on/yes/true/y}, {@code off/no/false/n}), event and iotype names (case-sensitive)
 *       are checked as QEMU checks them; section ids must be identifiers and unique per type.</li>
 * </ul>
 * One deliberate difference: the pre-2.9 dotted event names ({@code l1_grow.alloc_table}) are
 * accepted, and a negative errno (which QEMU turns into a request that "succeeds" without doing
 * its I/O) is refused.
 *
 * <p>The rules come back in QEMU's order: all inject-error rules in file order, then all
 * set-state rules in file order.
 */
public final class BlkdebugConfig {
    private static final int LINE_MAX = 1023; // fgets(line, 1024, fp)
    private static final int WORD_MAX = 63; // %63s
    private static final int VALUE_MAX = 1023; // %1023[^"]

    private static final Set<String> INJECT_KEYS =
            Set.of("event", "state", "iotype", "errno", "sector", "once", "immediately");
    private static final Set<String> SET_STATE_KEYS = Set.of("event", "state", "new_state");

    private BlkdebugConfig() {}

    /** Reads the rules of a configuration file. */
    public static List<Rule> load(Path file) throws IOException {
        byte[] bytes;
        try {
            bytes = Files.readAllBytes(file);
        } catch (IOException e) {
            throw new IOException("could not read blkdebug config file " + file + ": " + FileErrors.reason(e), e);
        }
        return parse(new String(bytes, StandardCharsets.UTF_8), file.toString());
    }

    /** Parses configuration text; {@code source} names it in error messages. */
    public static List<Rule> parse(String text, String source) {
        return new Parser(source).parse(text);
    }

    /** A parsed section: its group, id and keys in order, with the line each came from. */
    private record Section(String group, int line, Map<String, Value> values) {}

    private record Value(String text, int line) {}

    private static final class Parser {
        private final String source;
        private final List<Section> injectErrors = new ArrayList<>();
        private final List<Section> setStates = new ArrayList<>();
        private final Set<String> injectIds = new HashSet<>();
        private final Set<String> setStateIds = new HashSet<>();

        Parser(String source) {
            this.source = source;
        }

        List<Rule> parse(String text) {
            Section current = null;
            int lineNo = 0;
            int pos = 0;
            while (pos < text.length()) {
                int nl = text.indexOf('\n', pos);
                int end = nl < 0 ? text.length() : nl + 1;
                end = Math.min(end, pos + LINE_MAX);
                String line = text.substring(pos, end);
                pos = end;
                lineNo++;
                char first = line.charAt(0);
                if (first == '\n' || first == '#') {
                    continue;
                }
                if (first == '[') {
                    Section opened = sectionHeader(line, lineNo);
                    if (opened != null) {
                        if (current != null) {
                            finish(current);
                        }
                        current = opened;
                        continue;
                    }
                }
                int i = skipSpace(line, 0);
                int keyEnd = wordEnd(line, i);
                if (keyEnd == i) {
                    throw error(lineNo, "parse error (a line of only white space; empty lines must be really empty)");
                }
                String key = line.substring(i, keyEnd);
                String value = quotedValue(line, keyEnd);
                if (current == null) {
                    throw error(
                            lineNo,
                            "no group defined (\"" + key + "\" before the first [inject-error] or [set-state] line)");
                }
                current.values().remove(key); // a repeated key replaces the earlier one
                current.values().put(key, new Value(value, lineNo));
            }
            if (current != null) {
                finish(current);
            }
            List<Rule> rules = new ArrayList<>();
            for (Section s : injectErrors) {
                rules.add(injectError(s));
            }
            for (Section s : setStates) {
                rules.add(setState(s));
            }
            return rules;
        }

        /** {@code [%63s "%63[^"]"]}, then {@code [%63[^]]]}; null if neither matches. */
        private Section sectionHeader(String line, int lineNo) {
            int i = skipSpace(line, 1);
            int wordEnd = wordEnd(line, i);
            if (wordEnd > i) {
                int j = skipSpace(line, wordEnd);
                if (j < line.length() && line.charAt(j) == '"') {
                    int idStart = j + 1;
                    int idEnd = idStart;
                    while (idEnd < line.length() && idEnd - idStart < WORD_MAX && line.charAt(idEnd) != '"') {
                        idEnd++;
                    }
                    if (idEnd > idStart) {
                        Section s = new Section(line.substring(i, wordEnd), lineNo, new LinkedHashMap<>());
                        s.values().put("id", new Value(line.substring(idStart, idEnd), lineNo));
                        return s;
                    }
                }
            }
            int end = 1;
            while (end < line.length() && end - 1 < WORD_MAX && line.charAt(end) != ']') {
                end++;
            }
            if (end == 1) {
                return null;
            }
            return new Section(line.substring(1, end), lineNo, new LinkedHashMap<>());
        }

        /** After the key: {@code = "VALUE"} gives VALUE (up to the next quote); anything else gives "". */
        private static String quotedValue(String line, int from) {
            int i = skipSpace(line, from);
            if (i >= line.length() || line.charAt(i) != '=') {
                return "";
            }
            i = skipSpace(line, i + 1);
            if (i >= line.length() || line.charAt(i) != '"') {
                return "";
            }
            int start = i + 1;
            int end = start;
            while (end < line.length() && end - start < VALUE_MAX && line.charAt(end) != '"') {
                end++;
            }
            return line.substring(start, end);
        }

        /** qemu_config_do_parse: the group must exist, the id be well formed and unique, the keys known and well typed. */
        private void finish(Section s) {
            Set<String> keys;
            Set<String> ids;
            List<Section> into;
            switch (s.group()) {
                case "inject-error" -> {
                    keys = INJECT_KEYS;
                    ids = injectIds;
                    into = injectErrors;
                }
                case "set-state" -> {
                    keys = SET_STATE_KEYS;
                    ids = setStateIds;
                    into = setStates;
                }
                default ->
                    throw error(
                            s.line(),
                            "There is no option group '" + s.group()
                                    + "' (blkdebug knows [inject-error] and [set-state])");
            }
            Value id = s.values().get("id");
            if (id != null) {
                if (!isIdentifier(id.text())) {
                    throw error(
                            id.line(),
                            "Parameter 'id' expects an identifier ('" + id.text()
                                    + "'; identifiers consist of letters, digits, '-', '.', '_', starting with a letter)");
                }
                if (!ids.add(id.text())) {
                    throw error(id.line(), "Duplicate ID '" + id.text() + "' for " + s.group());
                }
            }
            for (Map.Entry<String, Value> e : s.values().entrySet()) {
                String key = e.getKey();
                if (key.equals("id")) {
                    continue;
                }
                if (!keys.contains(key)) {
                    throw error(
                            e.getValue().line(),
                            "Invalid parameter '" + key + "' in [" + s.group() + "] (valid: "
                                    + String.join(", ", sorted(keys)) + ")");
                }
                // Numbers and booleans are checked as the section is stored; event and iotype are
                // strings at this point and checked after the whole file, as add_rule does.
                switch (key) {
                    case "state", "errno", "sector", "new_state" -> number(s, key);
                    case "once", "immediately" -> bool(s, key, false);
                    default -> {}
                }
            }
            into.add(s);
        }

        private InjectErrorRule injectError(Section s) {
            BlkdebugEvent event = event(s);
            int state = (int) numberOr(s, "state", Rule.ANY_STATE);
            long errnoValue = numberOr(s, "errno", Errno.EIO);
            int errno = (int) errnoValue;
            long sector = numberOr(s, "sector", InjectErrorRule.ANY_SECTOR);
            Set<IoType> ioTypes = IoType.DEFAULT;
            Value iotype = s.values().get("iotype");
            if (iotype != null) {
                IoType t = IoType.byName(iotype.text())
                        .orElseThrow(() -> error(
                                iotype.line(),
                                "invalid parameter value: " + iotype.text()
                                        + " (iotype is one of read, write, write-zeroes, "
                                        + "discard, flush, block-status; one per rule)"));
                ioTypes = EnumSet.of(t);
            }
            if (errno < 0) {
                throw error(s.values().get("errno").line(), "errno must be 0 or a positive errno value, not " + errno);
            }
            return new InjectErrorRule(
                    event, state, ioTypes, errno, sector, bool(s, "once", false), bool(s, "immediately", false));
        }

        private SetStateRule setState(Section s) {
            BlkdebugEvent event = event(s);
            return new SetStateRule(event, (int) numberOr(s, "state", Rule.ANY_STATE), (int)
                    numberOr(s, "new_state", SetStateRule.DEFAULT_NEW_STATE));
        }

        private BlkdebugEvent event(Section s) {
            Value v = s.values().get("event");
            if (v == null) {
                throw error(s.line(), "Missing event name for rule in [" + s.group() + "]");
            }
            return BlkdebugEvent.byName(v.text())
                    .orElseThrow(() -> error(
                            v.line(),
                            "invalid parameter value: " + v.text()
                                    + " (not a blkdebug event name; e.g. read_aio, write_aio, "
                                    + "flush_to_os, flush_to_disk, pwritev, pwritev_zero, pwritev_done, none)"));
        }

        private long numberOr(Section s, String key, long fallback) {
            return s.values().containsKey(key) ? number(s, key) : fallback;
        }

        private long number(Section s, String key) {
            Value v = s.values().get(key);
            try {
                return QemuNumbers.parseU64(v.text());
            } catch (QemuNumbers.BadNumber e) {
                throw error(
                        v.line(),
                        e.tooLarge
                                ? "Value '" + v.text() + "' is too large for parameter '" + key + "'"
                                : "Parameter '" + key + "' expects a number, not '" + v.text() + "'");
            }
        }

        private boolean bool(Section s, String key, boolean fallback) {
            Value v = s.values().get(key);
            if (v == null) {
                return fallback;
            }
            Boolean b = QemuNumbers.parseBool(v.text());
            if (b == null) {
                throw error(v.line(), "Parameter '" + key + "' expects 'on' or 'off', not '" + v.text() + "'");
            }
            return b;
        }

        private BlkdebugConfigException error(int line, String message) {
            return new BlkdebugConfigException(source, line, message.replace("\n", "\\n"));
        }
    }

    private static int skipSpace(String s, int i) {
        while (i < s.length() && QemuNumbers.isSpace(s.charAt(i))) {
            i++;
        }
        return i;
    }

    /** End of a %63s word starting at {@code i} (at most 63 non-space characters). */
    private static int wordEnd(String s, int i) {
        int j = i;
        while (j < s.length() && j - i < WORD_MAX && !QemuNumbers.isSpace(s.charAt(j))) {
            j++;
        }
        return j;
    }

    /** QEMU's id_wellformed: a letter, then letters, digits, '-', '.', '_'. */
    private static boolean isIdentifier(String id) {
        if (id.isEmpty() || !isAsciiLetter(id.charAt(0))) {
            return false;
        }
        for (int i = 1; i < id.length(); i++) {
            char c = id.charAt(i);
            if (!isAsciiLetter(c) && !(c >= '0' && c <= '9') && c != '-' && c != '.' && c != '_') {
                return false;
            }
        }
        return true;
    }

    private static boolean isAsciiLetter(char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
    }

    private static List<String> sorted(Set<String> keys) {
        List<String> list = new ArrayList<>(keys);
        list.sort(null);
        return list;
    }

    /** Writes rules in the configuration format, one section each (what {@link #parse} reads back). */
    public static String format(List<? extends Rule> rules) {
        StringBuilder sb = new StringBuilder();
        for (Rule r : rules) {
            sb.append('[').append(r.typeName()).append("]\n");
            sb.append("event = \"").append(r.event().qapiName()).append("\"\n");
            if (r.state() != Rule.ANY_STATE) {
                sb.append("state = \"").append(r.state()).append("\"\n");
            }
            switch (r) {
                case InjectErrorRule ie -> {
                    if (!ie.ioTypes().equals(IoType.DEFAULT)) {
                        if (ie.ioTypes().size() != 1) {
                            throw new IllegalArgumentException(
                                    "the configuration format takes one iotype per rule: " + ie);
                        }
                        sb.append("iotype = \"")
                                .append(ie.ioTypes().iterator().next().qapiName())
                                .append("\"\n");
                    }
                    sb.append("errno = \"").append(ie.errno()).append("\"\n");
                    if (ie.sector() != InjectErrorRule.ANY_SECTOR) {
                        sb.append("sector = \"").append(ie.sector()).append("\"\n");
                    }
                    if (ie.once()) {
                        sb.append("once = \"on\"\n");
                    }
                    if (ie.immediately()) {
                        sb.append("immediately = \"on\"\n");
                    }
                }
                case SetStateRule ss ->
                    sb.append("new_state = \"").append(ss.newState()).append("\"\n");
            }
            sb.append('\n');
        }
        return sb.toString();
    }
}
