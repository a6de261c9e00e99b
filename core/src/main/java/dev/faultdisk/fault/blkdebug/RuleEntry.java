package dev.faultdisk.fault.blkdebug;

/** A rule in the list; identity matters (the same rule may be added twice). */
final class RuleEntry {
    static final RuleEntry[] NONE = {};

    final Rule rule;
    final InjectErrorRule inject;
    final int ioMask;
    /** Definition order across all rules ever added. */
    final long seq;
    /** The byte an inject-error rule's sector starts at, wrapped like QEMU's int64 (unused for -1). */
    final long offset;

    RuleEntry(Rule rule, long seq) {
        this.rule = rule;
        this.seq = seq;
        this.inject = rule instanceof InjectErrorRule ie ? ie : null;
        this.ioMask = inject == null ? 0 : IoType.mask(inject.ioTypes());
        this.offset = inject == null ? 0 : inject.sector() * 512;
    }
}
