package dev.faultdisk.fault;

import dev.faultdisk.filemap.FileBinding;
import java.util.ArrayList;
import java.util.List;

/**
 * Turns rules given as JSON-like maps into {@link FaultRule}s: the common members ("type",
 * "label", "seed", "events" and the {@link Targeting} members), then the type's own. Every
 * problem is a {@link FaultRuleException} naming the member; unknown members are refused.
 */
final class FaultRuleParser {
    private FaultRuleParser() {}

    /**
     * @param rules      the rules
     * @param path       what the list is called in messages ("rules")
     * @param exportSize the export's size
     * @param firstId    the id the first rule will get
     * @param engineSeed the seed rules without one derive theirs from
     */
    static List<FaultRule> parse(
            List<?> rules, String path, long exportSize, long firstId, long engineSeed, FileBinding files) {
        List<FaultRule> out = new ArrayList<>(rules.size());
        for (int i = 0; i < rules.size(); i++) {
            out.add(parseOne(
                    RuleParams.of(rules.get(i), path + "[" + i + "]"), exportSize, firstId + i, engineSeed, files));
        }
        return out;
    }

    private static FaultRule parseOne(RuleParams p, long exportSize, long id, long engineSeed, FileBinding files) {
        String typeName = p.string("type");
        FaultType type = FaultTypes.find(typeName)
                .orElseThrow(() -> p.error(
                        "type",
                        "names an unknown fault type '" + typeName + "' (known: "
                                + String.join(", ", FaultTypes.names()) + ")"));
        Targeting targeting = Targeting.parse(p, type, exportSize, files);
        long seed = p.has("seed")
                ? p.integer("seed", 0, Long.MIN_VALUE, Long.MAX_VALUE)
                : Firing.mix(engineSeed ^ Firing.mix(id));
        String label = p.string("label", "");
        boolean events = p.bool("events", true);
        Fault fault = type.parser().parse(p, new FaultType.Context(exportSize, seed, targeting));
        p.rejectUnused("type " + type.name());
        return new FaultRule(id, label, type, fault, targeting, seed, events, exportSize);
    }
}
