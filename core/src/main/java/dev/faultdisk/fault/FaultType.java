package dev.faultdisk.fault;

import dev.faultdisk.wire.BlockOp;
import java.util.Set;

/**
 * A fault type as the registry knows it: its name in {@code "type"}, a one-line summary, the
 * operations it may target and those it targets by default, and its parser.
 */
public record FaultType(String name, String summary, Set<BlockOp> ops, Set<BlockOp> defaultOps, Parser parser) {

    public FaultType {
        ops = Set.copyOf(ops);
        defaultOps = Set.copyOf(defaultOps);
        if (!ops.containsAll(defaultOps)) {
            throw new IllegalArgumentException(name + ": default operations outside the allowed ones");
        }
    }

    /** Reads a fault's own parameters; every problem is a {@link FaultRuleException}. */
    @FunctionalInterface
    public interface Parser {
        Fault parse(RuleParams params, Context context);
    }

    /**
     * What a parser may need to know.
     *
     * @param exportSize the export's size in bytes
     * @param seed       the rule's seed
     * @param targeting  the rule's targeting, already parsed
     */
    public record Context(long exportSize, long seed, Targeting targeting) {}
}
