package dev.faultdisk.fault.blkdebug;

/**
 * A rule in the engine's list. The same rule may be added twice; its place in definition order
 * tells the two apart.
 *
 * @param rule   the rule
 * @param seq    its place in definition order, across all rules ever added
 * @param inject the rule as an inject-error rule, or null
 * @param ioMask the I/O types an inject-error rule acts on, one bit each ({@link IoType#mask})
 * @param offset the byte an inject-error rule's sector starts at, wrapped like QEMU's int64
 *     (unused for any sector)
 */
record RuleEntry(Rule rule, long seq, InjectErrorRule inject, int ioMask, long offset) {
    static final RuleEntry[] NONE = {};

    static RuleEntry of(Rule rule, long seq) {
        InjectErrorRule inject = rule instanceof InjectErrorRule ie ? ie : null;
        return inject == null
                ? new RuleEntry(rule, seq, null, 0, 0)
                : new RuleEntry(rule, seq, inject, IoType.mask(inject.ioTypes()), inject.sector() * 512);
    }
}
