package dev.faultdisk.device;

import java.io.IOException;

/**
 * An intercepting layer run by a {@link LayerEngine}: it may block while the engine says so, and
 * it shuts the engine down (letting go of what it holds) before closing the device below.
 *
 * @param <E> the engine's type
 */
public abstract class EngineDevice<E extends LayerEngine> extends InterceptingDevice {
    protected final E engine;

    protected EngineDevice(BlockDevice next, E engine) {
        super(next);
        this.engine = engine;
    }

    public E engine() {
        return engine;
    }

    @Override
    public boolean mayBlock() {
        return engine.mayBlock() || next.mayBlock();
    }

    @Override
    public void close() throws IOException {
        engine.shutdown();
        next.close();
    }
}
