package dev.faultdisk.device;

import java.lang.foreign.MemorySegment;
import java.util.function.Supplier;

/**
 * Where one page tree's slabs come from ({@link PageSlabs}), told when the tree lets them all go:
 * {@link SlabMemory} then knows that the collector has slabs to free, and that a refusal at its
 * limit need not wait for it when none is.
 */
@FunctionalInterface
interface SlabSource extends Supplier<MemorySegment> {

    /** The tree is done with its slabs: they go once nothing holds them. */
    default void release() {}
}
