package dev.faultdisk.export;

import dev.faultdisk.device.BlockDevice;
import java.util.EnumMap;
import java.util.Map;

/** An export's device stack, built bottom-up in the order {@link Layer} lists, with each slot's device. */
final class ExportStack {
    private final BlockDevice top;
    private final Map<Layer, BlockDevice> layers;

    private ExportStack(BlockDevice top, Map<Layer, BlockDevice> layers) {
        this.top = top;
        this.layers = layers;
    }

    static ExportStack build(ExportParts parts) {
        Map<Layer, BlockDevice> layers = new EnumMap<>(Layer.class);
        Layer[] order = Layer.values();
        BlockDevice below = null;
        for (int i = order.length - 1; i >= 0; i--) {
            BlockDevice device = order[i].build(below, parts);
            @SuppressWarnings("ReferenceEquality") // a factory returns the very device below to leave its slot empty
            boolean built = device != below;
            if (built) {
                layers.put(order[i], device);
            }
            below = device;
        }
        return new ExportStack(below, layers);
    }

    /** What frontends talk to. */
    BlockDevice top() {
        return top;
    }

    /** The device in {@code slot}; fails if the slot is empty. */
    <T extends BlockDevice> T layer(Layer slot, Class<T> type) {
        BlockDevice device = layers.get(slot);
        if (device == null) {
            throw new IllegalStateException("no " + slot + " layer in this stack");
        }
        return type.cast(device);
    }
}
