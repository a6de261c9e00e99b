package dev.faultdisk.cli.campaign;

import dev.faultdisk.client.FaultRule;
import java.io.IOException;
import java.nio.file.FileSystems;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.PathMatcher;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

/**
 * A run's fault rules on its node, and what they aim at in words. A file target is the trace's
 * file if the reverted disk has it, else every file matching the row's pattern (a snapshot or
 * segment named after an index the trace run reached); a structure is its export ranges.
 *
 * @param rules  the rules to add, none if no file matches
 * @param aimed  the files aimed at, or the structure and how many ranges
 */
record Aim(List<FaultRule> rules, List<String> aimed) {
    /** The trace's piece of a file, [start,end) in KiB, that ends a file row's label. */
    private static final String PIECE = " \\[[0-9]+K,[0-9]+K\\)$";

    /**
     * @param mount  where the node's reverted file system is mounted (read for a file target only)
     * @param seed   the rules' seed
     * @param slowMs the slow block's delay
     */
    static Aim of(Target t, FaultKind fault, Path mount, long seed, long slowMs) throws IOException {
        List<FaultRule> rules = new ArrayList<>();
        if (t.path() == null) {
            for (List<Long> r : t.ranges()) {
                rules.add(FaultRule.fromJson(fault.rule(Map.of("offset", r.get(0), "length", r.get(1)), seed, slowMs)));
            }
            return new Aim(rules, List.of(t.label() + " (" + rules.size() + " ranges)"));
        }
        List<String> files = files(t, mount);
        Map<String, Object> piece =
                t.fileLength() > 0 ? Map.of("file-offset", t.fileOffset(), "file-length", t.fileLength()) : Map.of();
        for (String f : files) {
            Map<String, Object> target = new LinkedHashMap<>(piece);
            target.put("file", f);
            rules.add(FaultRule.fromJson(fault.rule(target, seed, slowMs)));
        }
        return new Aim(rules, files);
    }

    /** The target's file relative to {@code mount} if it is there, else those matching its row's pattern, sorted. */
    static List<String> files(Target t, Path mount) throws IOException {
        if (Files.exists(mount.resolve(t.path()))) {
            return List.of(t.path());
        }
        String label = t.label().replaceFirst(PIECE, "");
        String pattern = label.startsWith("dir ") ? label.substring(4) : label;
        PathMatcher m = FileSystems.getDefault().getPathMatcher("glob:" + pattern);
        try (Stream<Path> walk = Files.walk(mount)) {
            return walk.map(mount::relativize)
                    .filter(m::matches)
                    .map(Path::toString)
                    .sorted()
                    .toList();
        }
    }
}
