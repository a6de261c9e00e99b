package dev.faultdisk.fault;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import dev.faultdisk.device.Completion;
import java.nio.ByteBuffer;
import java.util.concurrent.CountDownLatch;

/** What a submitted request's completion saw: the fault tests' stand-in for a frontend. */
class Outcome implements Completion {
    final ByteBuffer data;
    final CountDownLatch done = new CountDownLatch(1);
    volatile Throwable failure;
    volatile String thread;

    Outcome(int length) {
        data = ByteBuffer.allocate(length);
    }

    @Override
    public void complete(Throwable f) {
        failure = f;
        thread = Thread.currentThread().getName();
        done.countDown();
    }

    boolean finished() {
        return done.getCount() == 0;
    }

    /** The bytes a read that finished without failing returned. */
    byte[] bytes() {
        assertEquals(0, done.getCount(), "finished");
        assertNull(failure);
        return data.array();
    }
}
