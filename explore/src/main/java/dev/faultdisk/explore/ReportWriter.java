package dev.faultdisk.explore;

import dev.faultdisk.wire.history.HistoryEntry;
import dev.faultdisk.wire.json.Json;
import java.io.IOException;
import java.nio.file.Files;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.stream.Collectors;

/** Writes an exploration's report: report.json, and report.html, a page that needs nothing else. */
final class ReportWriter {
    private static final int WIDTH = 1100;

    private ReportWriter() {}

    static void write(ExploreReport r, ExploreOptions o) throws IOException {
        Files.writeString(r.json(), Json.writePretty(json(r, o)) + "\n");
        Files.writeString(r.html(), html(r, o));
    }

    /** The history in brief: kind, entry, time (ms from the start), range or label. */
    static List<Map<String, Object>> timeline(List<HistoryEntry> entries) {
        List<Map<String, Object>> out = new ArrayList<>();
        long t0 = entries.isEmpty() ? 0 : entries.getFirst().startNanos();
        for (HistoryEntry e : entries) {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("entry", e.index());
            m.put("kind", e.kind().name().toLowerCase(Locale.ROOT).replace('_', '-'));
            m.put("ms", e.kind() == HistoryEntry.Kind.END ? -1 : (e.endNanos() - t0) / 1_000_000);
            if (e.isChange()) {
                m.put("offset", e.offset());
                m.put("length", e.length());
                if (e.fua()) {
                    m.put("fua", true);
                }
            }
            if (e.kind() == HistoryEntry.Kind.MARK) {
                m.put("label", e.label());
            }
            out.add(m);
        }
        return out;
    }

    static String materializeCommand(ExploreReport r, String state) {
        return "faultdisk explore --materialize " + r.runDir() + " " + state + " --as " + r.run() + "-" + state;
    }

    static Map<String, Object> json(ExploreReport r, ExploreOptions o) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("run", r.run());
        m.put("export", r.export());
        m.put("history", r.history().toString());
        m.put("fs", o.fs);
        m.put("mount-options", o.mountOptions);
        m.put("setup", o.setup);
        m.put("workload", o.workload);
        m.put("check", o.check);
        m.put("seed", o.seed);
        m.put("max-states", o.maxStates);
        m.put("interrupted", r.interrupted());
        m.put("acks", r.acks());
        m.put("planned", r.planned());
        m.put("checked", r.results().size());
        Map<String, Object> counts = new TreeMap<>();
        for (StateResult s : r.results()) {
            counts.merge(s.verdict().wireName(), 1L, (a, b) -> (Long) a + (Long) b);
        }
        m.put("verdicts", counts);
        m.put("violations", r.violations().size());
        m.put("seconds", Math.round(r.seconds() * 10) / 10.0);
        m.put("states-per-minute", Math.round(r.statesPerMinute()));
        m.put("first-violation-seconds", Math.round(r.firstViolationSeconds() * 10) / 10.0);
        List<Object> points = new ArrayList<>();
        for (CrashPoint p : r.points()) {
            Map<String, Object> pm = new LinkedHashMap<>();
            pm.put("point", p.number());
            pm.put("before-entry", p.at());
            pm.put("durable-prefix", p.prefix());
            pm.put("pending", p.pending().size());
            pm.put("fua", p.fua().size());
            pm.put("acked", p.acked().size());
            points.add(pm);
        }
        m.put("crash-points", points);
        List<Object> states = new ArrayList<>();
        for (StateResult s : r.results()) {
            Map<String, Object> sm = state(s.state());
            sm.put("acked", s.acked());
            sm.put("verdict", s.verdict().wireName());
            sm.put("ms", s.millis());
            if (s.verdict() != Verdict.OK) {
                if (!s.mountMessage().isEmpty()) {
                    sm.put("mount-error", s.mountMessage());
                }
                sm.put("check-exit", s.checkExit());
                sm.put("check-output", s.checkOutput());
            }
            if (!s.fsckClean()) {
                sm.put("fsck-output", s.fsckOutput());
            }
            states.add(sm);
        }
        m.put("states", states);
        List<Object> mins = new ArrayList<>();
        for (int i = 0; i < r.minimized().size(); i++) {
            Minimized x = r.minimized().get(i);
            Map<String, Object> mm = new LinkedHashMap<>();
            mm.put("reproducer-id", "m" + i);
            mm.put("from-state", x.state());
            mm.put("verdict", x.verdict().wireName());
            mm.put("tests", x.tests());
            mm.put("complete", x.complete());
            List<Object> dropped = new ArrayList<>();
            for (Minimized.Dropped d : x.dropped()) {
                Map<String, Object> dm = new LinkedHashMap<>();
                dm.put("entry", d.entry());
                dm.put("offset", d.offset());
                dm.put("length", d.length());
                if (!d.blocks().isEmpty()) {
                    dm.put("lost-blocks", d.blocks());
                }
                dm.put("owners", d.owners());
                dropped.add(dm);
            }
            mm.put("lost", dropped);
            mm.put("reproducer", state(x.reproducer()));
            mm.put("materialize", materializeCommand(r, "m" + i));
            mins.add(mm);
        }
        m.put("minimized", mins);
        m.put("timeline", r.timeline());
        return m;
    }

    private static Map<String, Object> state(PlannedState s) {
        Map<String, Object> sm = new LinkedHashMap<>();
        sm.put("id", s.id());
        sm.put("point", s.point());
        sm.put("how", s.how());
        sm.put("prefix", s.prefix());
        sm.put("applied", Ranges.format(s.applied()));
        Map<String, Object> torn = new TreeMap<>();
        s.torn().forEach((k, v) -> torn.put(Long.toString(k), v));
        if (!torn.isEmpty()) {
            sm.put("torn", torn);
        }
        return sm;
    }

    // ---- HTML

    static String html(ExploreReport r, ExploreOptions o) {
        StringBuilder h = new StringBuilder();
        h.append("<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>faultdisk explore ")
                .append(esc(r.run()))
                .append("</title><style>")
                .append("body{font:14px/1.45 system-ui,sans-serif;margin:24px;color:#222;max-width:1200px}")
                .append("table{border-collapse:collapse;margin:8px 0}td,th{border:1px solid #ccc;padding:3px 8px;"
                        + "text-align:left;vertical-align:top}th{background:#f3f3f3}")
                .append("code,pre{font:12px ui-monospace,monospace;background:#f6f6f6}pre{padding:6px;"
                        + "white-space:pre-wrap;max-height:220px;overflow:auto}")
                .append(".bad{color:#b00020;font-weight:600}.ok{color:#1b7f3b;font-weight:600}")
                .append("</style></head><body>");
        h.append("<h1>faultdisk explore: ").append(esc(r.run())).append("</h1>");
        long violations = r.violations().size();
        h.append("<p class=\"")
                .append(violations == 0 ? "ok" : "bad")
                .append("\">")
                .append(violations)
                .append(violations == 1 ? " violation" : " violations")
                .append(" in ")
                .append(r.results().size())
                .append(" crash states checked (of ")
                .append(r.planned())
                .append(" planned)")
                .append(r.interrupted() ? ", interrupted: the states below are those checked before the stop" : "")
                .append(".</p>");
        h.append("<table>");
        row(h, "export", r.export() + " (" + o.fs + (o.mountOptions.isEmpty() ? "" : ", -o " + o.mountOptions) + ")");
        row(h, "setup", o.setup == null ? "" : o.setup);
        row(h, "workload", o.workload);
        row(h, "check", o.check);
        row(h, "seed / max states", o.seed + " / " + o.maxStates);
        row(h, "acknowledged keys", Integer.toString(r.acks().size()));
        row(h, "crash points", Integer.toString(r.points().size()));
        row(
                h,
                "verdicts",
                r.results().stream()
                        .collect(
                                Collectors.groupingBy(s -> s.verdict().wireName(), TreeMap::new, Collectors.counting()))
                        .toString());
        row(h, "speed", String.format(Locale.ROOT, "%.0f states/min over %.1f s", r.statesPerMinute(), r.seconds()));
        row(
                h,
                "first violation",
                r.firstViolationSeconds() < 0
                        ? "none"
                        : String.format(Locale.ROOT, "%.1f s after exploration started", r.firstViolationSeconds()));
        row(h, "history", r.history().toString());
        h.append("</table>");

        h.append("<h2>Timeline</h2><p>Left to right, the run's history entry by entry: blue ticks are writes "
                + "(taller: larger), grey lines flushes completing, green dots acknowledgements (<code>ack KEY</code>), "
                + "red triangles the crash points with a violation.</p>");
        timelineSvg(h, r);

        h.append("<h2>Violations</h2>");
        if (violations == 0) {
            h.append("<p class=\"ok\">None: every state checked mounted, passed the check and fsck.</p>");
        } else {
            h.append("<table><tr><th>state</th><th>crash point</th><th>how chosen</th><th>verdict</th><th>acked</th>"
                    + "<th>lost writes</th><th>output</th></tr>");
            int shown = 0;
            for (StateResult s : r.violations()) {
                if (shown++ >= 200) {
                    h.append("<tr><td colspan=\"7\">... ")
                            .append(violations - 200)
                            .append(" more in report.json</td></tr>");
                    break;
                }
                CrashPoint p = r.points().get(s.state().point());
                long lost = p.pending().stream()
                        .filter(i -> !s.state().applied().contains(i))
                        .count();
                h.append("<tr><td>")
                        .append(s.state().id())
                        .append("</td><td>")
                        .append(p.number())
                        .append(" (before entry ")
                        .append(p.at())
                        .append(")</td><td>")
                        .append(esc(s.state().how()))
                        .append("</td><td class=\"bad\">")
                        .append(s.verdict().wireName())
                        .append("</td><td>")
                        .append(s.acked())
                        .append("</td><td>")
                        .append(lost)
                        .append(" of ")
                        .append(p.pending().size())
                        .append(s.state().torn().isEmpty() ? "" : ", 1 torn")
                        .append("</td><td><pre>")
                        .append(esc(firstLines(
                                s.mountMessage() + s.checkOutput() + (s.fsckClean() ? "" : "\nfsck: " + s.fsckOutput()),
                                8)))
                        .append("</pre></td></tr>");
            }
            h.append("</table>");
        }

        h.append("<h2>Minimal reproducers</h2>");
        if (r.minimized().isEmpty()) {
            h.append("<p>None (no violations, or minimizing was turned off).</p>");
        }
        for (int i = 0; i < r.minimized().size(); i++) {
            Minimized x = r.minimized().get(i);
            h.append("<h3>m")
                    .append(i)
                    .append(": state ")
                    .append(x.state())
                    .append(", ")
                    .append(x.verdict().wireName())
                    .append("</h3><p>")
                    .append(
                            x.dropped().isEmpty()
                                    ? "It fails even when every pending write lands: what breaks it is in the durable writes."
                                    : "Losing just these " + x.dropped().size()
                                            + " write(s) fails the same way; landing any one of"
                                            + " them makes it pass"
                                            + (x.complete() ? "" : " (test budget ran out: maybe not minimal)")
                                            + ".")
                    .append(" ")
                    .append(x.tests())
                    .append(" states tested.</p>");
            if (!x.dropped().isEmpty()) {
                h.append("<table><tr><th>entry</th><th>bytes</th><th>lost</th><th>belonged to</th></tr>");
                for (Minimized.Dropped d : x.dropped()) {
                    h.append("<tr><td>")
                            .append(d.entry())
                            .append("</td><td>")
                            .append(d.offset())
                            .append("+")
                            .append(d.length())
                            .append("</td><td>")
                            .append(d.blocks().isEmpty() ? "whole write" : "blocks " + d.blocks() + " (torn)")
                            .append("</td><td>")
                            .append(esc(String.join(", ", d.owners())))
                            .append("</td></tr>");
                }
                h.append("</table>");
            }
            h.append("<p>Serve it as an export to mount and inspect:</p><pre>")
                    .append(esc(materializeCommand(r, "m" + i)))
                    .append("</pre>");
        }

        h.append("<h2>How to read this</h2><ul>")
                .append(
                        "<li>A <b>crash point</b> is a moment the power may fail: just before a flush completes, or at the"
                                + " end of the run. What a completed flush covered, and FUA writes, are on the disk; every other"
                                + " completed write may or may not be, and may be torn at 512-byte boundaries.</li>")
                .append("<li>A <b>state</b> is one such choice: <i>none</i> (every pending write lost), <i>all</i>,"
                        + " an in-order <i>prefix</i>, a seeded <i>random</i> subset, or a <i>torn</i> write.</li>")
                .append(
                        "<li><b>check-failed</b>: the check command exited non-zero, given the keys acknowledged before the"
                                + " crash point. <b>unmountable</b>: the file system would not mount. <b>fs-corrupt</b>: the check"
                                + " passed but a read-only fsck after it found damage. <b>check-timeout</b>: the check hung.</li>")
                .append("<li>Any state can be served again: <code>faultdisk explore --materialize ")
                .append(esc(r.runDir().toString()))
                .append(" STATE --as NAME</code>, with STATE a number above or mN.</li></ul>");

        h.append("<details><summary>All ")
                .append(r.results().size())
                .append(" states</summary><table><tr><th>state</th>"
                        + "<th>point</th><th>how</th><th>verdict</th><th>ms</th></tr>");
        for (StateResult s : r.results()) {
            h.append("<tr><td>")
                    .append(s.state().id())
                    .append("</td><td>")
                    .append(s.state().point())
                    .append("</td><td>")
                    .append(esc(s.state().how()))
                    .append("</td><td class=\"")
                    .append(s.verdict() == Verdict.OK ? "ok" : "bad")
                    .append("\">")
                    .append(s.verdict().wireName())
                    .append("</td><td>")
                    .append(s.millis())
                    .append("</td></tr>");
        }
        h.append("</table></details></body></html>\n");
        return h.toString();
    }

    private static void timelineSvg(StringBuilder h, ExploreReport r) {
        List<Map<String, Object>> t = r.timeline();
        int n = Math.max(1, t.size());
        int height = 120;
        h.append("<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"")
                .append(WIDTH)
                .append("\" height=\"")
                .append(height)
                .append("\" style=\"border:1px solid #ddd;background:#fff\">");
        h.append("<line x1=\"10\" y1=\"80\" x2=\"").append(WIDTH - 10).append("\" y2=\"80\" stroke=\"#999\"/>");
        double scale = (WIDTH - 20.0) / n;
        int lastX = -1;
        for (Map<String, Object> e : t) {
            long i = (Long) e.get("entry");
            int x = (int) Math.round(10 + i * scale);
            String kind = (String) e.get("kind");
            switch (kind) {
                case "write", "trim", "write-zeroes" -> {
                    if (x != lastX) {
                        long len = (Long) e.get("length");
                        int tall = (int) Math.min(50, 6 + 4 * Math.log(Math.max(1, len / 512.0)) / Math.log(2));
                        h.append("<line x1=\"")
                                .append(x)
                                .append("\" y1=\"80\" x2=\"")
                                .append(x)
                                .append("\" y2=\"")
                                .append(80 - tall)
                                .append("\" stroke=\"#2a6fdb\" stroke-opacity=\"0.6\"/>");
                        lastX = x;
                    }
                }
                case "flush-end" ->
                    h.append("<line x1=\"")
                            .append(x)
                            .append("\" y1=\"20\" x2=\"")
                            .append(x)
                            .append("\" y2=\"95\" stroke=\"#777\" stroke-width=\"0.7\"/>");
                case "mark" ->
                    h.append("<circle cx=\"")
                            .append(x)
                            .append("\" cy=\"100\" r=\"3\" fill=\"#1b7f3b\"><title>")
                            .append(esc(String.valueOf(e.get("label"))))
                            .append("</title></circle>");
                default -> {}
            }
        }
        Set<Integer> failing =
                r.violations().stream().map(s -> s.state().point()).collect(Collectors.toSet());
        for (int p : failing) {
            CrashPoint cp = r.points().get(p);
            int x = (int) Math.round(10 + cp.at() * scale);
            h.append("<polygon points=\"")
                    .append(x - 5)
                    .append(",4 ")
                    .append(x + 5)
                    .append(",4 ")
                    .append(x)
                    .append(",14\" fill=\"#b00020\"><title>crash point ")
                    .append(p)
                    .append(" before entry ")
                    .append(cp.at())
                    .append("</title></polygon>");
        }
        h.append("<text x=\"10\" y=\"116\" font-size=\"11\" fill=\"#555\">entry 0</text><text x=\"")
                .append(WIDTH - 90)
                .append("\" y=\"116\" font-size=\"11\" fill=\"#555\">entry ")
                .append(n - 1)
                .append("</text></svg>");
    }

    private static void row(StringBuilder h, String k, String v) {
        h.append("<tr><th>")
                .append(esc(k))
                .append("</th><td><code>")
                .append(esc(v))
                .append("</code></td></tr>");
    }

    private static String firstLines(String s, int n) {
        String[] lines = s.strip().split("\n");
        StringBuilder b = new StringBuilder();
        for (int i = 0; i < Math.min(n, lines.length); i++) {
            b.append(lines[i]).append('\n');
        }
        if (lines.length > n) {
            b.append("...");
        }
        return b.toString().strip();
    }

    static String esc(String s) {
        return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("\"", "&quot;");
    }
}
