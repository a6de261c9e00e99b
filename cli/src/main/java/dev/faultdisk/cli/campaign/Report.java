package dev.faultdisk.cli.campaign;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * The campaign's report: {@code report.json} (every run, the outcome counts, runs per minute) and
 * {@code report.html}, the 2017 study's table for this system: a row per file or structure and
 * node role, a column per fault kind, each cell the worst outcome of its runs, coloured, linking
 * each run's directory (node logs, check output), its journal and the command that repeats it.
 */
final class Report {
    private Report() {}

    static Path write(CampaignSpec spec, List<Target> targets, Map<String, RunResult> results, Path workdir)
            throws IOException {
        Map<Outcome, Integer> counts = new EnumMap<>(Outcome.class);
        Instant first = null;
        Instant last = null;
        for (RunResult r : results.values()) {
            counts.merge(r.outcome(), 1, Integer::sum);
            first = first == null || r.started().isBefore(first) ? r.started() : first;
            Instant end = r.started().plus(r.took());
            last = last == null || end.isAfter(last) ? end : last;
        }
        double minutes = first == null ? 0 : Duration.between(first, last).toMillis() / 60000.0;
        int planned = 0;
        for (Target t : targets) {
            for (FaultKind f : spec.faults()) {
                planned += t.worthTrying(f) ? 1 : 0;
            }
        }
        Map<String, Object> json = new LinkedHashMap<>();
        json.put("campaign", spec.name());
        json.put("file", spec.file().toAbsolutePath().toString());
        json.put("runs-planned", planned);
        json.put("runs-done", results.size());
        json.put("minutes", Math.round(minutes * 100) / 100.0);
        json.put("runs-per-minute", minutes > 0 ? Math.round(results.size() / minutes * 100) / 100.0 : 0);
        Map<String, Object> c = new LinkedHashMap<>();
        counts.forEach((o, n) -> c.put(o.wireName(), n));
        json.put("outcomes", c);
        json.put("runs", results.values().stream().map(RunResult::toJson).toList());
        CampaignRunner.writeJson(workdir.resolve("report.json"), json);
        Path html = workdir.resolve("report.html");
        Files.writeString(html, html(spec, targets, results, json), StandardCharsets.UTF_8);
        return html;
    }

    private static String html(
            CampaignSpec spec, List<Target> targets, Map<String, RunResult> results, Map<String, Object> json) {
        // rows: (label, role) in the order targets were planned
        Map<String, List<Target>> rows = new LinkedHashMap<>();
        for (Target t : targets) {
            rows.computeIfAbsent(t.label() + "\u0000" + t.role(), k -> new ArrayList<>())
                    .add(t);
        }
        StringBuilder b = new StringBuilder();
        b.append("<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>faultdisk campaign ")
                .append(esc(spec.name()))
                .append("</title>\n<style>body{font-family:sans-serif;margin:1.5em}table{border-collapse:collapse}"
                        + "td,th{border:1px solid #999;padding:3px 6px;font-size:13px;vertical-align:top}"
                        + "td.c a{color:#000;text-decoration:none;display:block}th{background:#eee}"
                        + ".legend span{display:inline-block;padding:2px 6px;margin:2px}</style></head><body>\n");
        b.append("<h1>Campaign ")
                .append(esc(spec.name()))
                .append("</h1>\n<p>")
                .append(json.get("runs-done"))
                .append(" of ")
                .append(json.get("runs-planned"))
                .append(" runs in ")
                .append(json.get("minutes"))
                .append(" min (")
                .append(json.get("runs-per-minute"))
                .append(" runs per minute). Outcomes: ")
                .append(esc(String.valueOf(json.get("outcomes"))))
                .append(". One fault on one target of one node per run; each cell shows the worst outcome of its runs"
                        + " (one per node with that role) and links each run.</p>\n<p class=\"legend\">");
        for (Outcome o : Outcome.values()) {
            b.append("<span style=\"background:")
                    .append(o.colour())
                    .append("\" title=\"")
                    .append(esc(o.meaning()))
                    .append("\">")
                    .append(o.wireName())
                    .append("</span>");
        }
        b.append("</p>\n<table><tr><th>file or structure</th><th>role</th>");
        for (FaultKind f : spec.faults()) {
            b.append("<th>").append(esc(f.title())).append("</th>");
        }
        b.append("</tr>\n");
        for (List<Target> row : rows.values()) {
            Target t0 = row.getFirst();
            b.append("<tr><td>")
                    .append(esc(t0.label()))
                    .append("</td><td>")
                    .append(esc(t0.role()))
                    .append("</td>");
            for (FaultKind f : spec.faults()) {
                Outcome worst = null;
                StringBuilder links = new StringBuilder();
                for (Target t : row) {
                    RunResult r = results.get(t.runId(f));
                    if (r == null) {
                        continue;
                    }
                    worst = worst == null ? r.outcome() : worst.worse(r.outcome());
                    String rel = "runs/" + r.id() + "/";
                    links.append("<a href=\"")
                            .append(esc(rel))
                            .append("\" title=\"")
                            .append(esc(r.detail() + "\nrerun: " + r.rerun()))
                            .append("\">")
                            .append(esc(t.node()))
                            .append(": ")
                            .append(r.outcome().wireName())
                            .append("</a> <a href=\"")
                            .append(esc(rel + "journal.json"))
                            .append("\">journal</a> <code title=\"")
                            .append(esc(r.rerun()))
                            .append("\">rerun</code><br>");
                }
                if (worst == null) {
                    b.append(
                            row.stream().anyMatch(t -> t.worthTrying(f))
                                    ? "<td>not run yet</td>"
                                    : "<td title=\"the trace saw no access this fault acts on\">-</td>");
                } else {
                    b.append("<td class=\"c\" style=\"background:")
                            .append(worst.colour())
                            .append("\"><b>")
                            .append(worst.wireName())
                            .append("</b><br>")
                            .append(links)
                            .append("</td>");
                }
            }
            b.append("</tr>\n");
        }
        b.append("</table>\n<h2>Runs</h2>\n<table><tr><th>run</th><th>outcome</th><th>armed</th><th>fired</th>"
                + "<th>roles</th><th>detail</th><th>rerun</th></tr>\n");
        for (RunResult r : new TreeMap<>(results).values()) {
            b.append("<tr><td><a href=\"runs/")
                    .append(esc(r.id()))
                    .append("/\">")
                    .append(esc(r.id()))
                    .append("</a></td><td style=\"background:")
                    .append(r.outcome().colour())
                    .append("\">")
                    .append(r.outcome().wireName())
                    .append("</td><td>")
                    .append(esc(r.armed()))
                    .append("</td><td>")
                    .append(r.faultsFired())
                    .append("</td><td>")
                    .append(esc(String.valueOf(r.roles())))
                    .append("</td><td>")
                    .append(esc(r.detail()))
                    .append("</td><td><code>")
                    .append(esc(r.rerun()))
                    .append("</code></td></tr>\n");
        }
        b.append("</table>\n</body></html>\n");
        return b.toString();
    }

    private static String esc(String s) {
        return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("\"", "&quot;");
    }
}
