package dev.faultdisk.fault;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * The timer that lets delays go runs with a timer slack of 1 ns: with the kernel's default
 * (50 µs) every delay it serves could end up to 50 µs late. Linux only: the slack is read back
 * from /proc, as the kernel holds it.
 */
class DelayTimerSlackTest {

    @Test
    void theTimerThreadWaitsWithoutSlack() throws Exception {
        Path tasks = Path.of("/proc/self/task");
        assumeTrue(Files.isDirectory(tasks), "no /proc/self/task: not Linux");
        CountDownLatch ran = new CountDownLatch(1);
        DelayTimer.shared().schedule(System.nanoTime(), null, ran::countDown);
        assertEquals(true, ran.await(10, TimeUnit.SECONDS), "the timer ran the task");

        List<Path> timers;
        try (Stream<Path> all = Files.list(tasks)) {
            timers = all.filter(t -> comm(t).equals("faultdisk-delay")).toList(); // names are cut to 15 bytes
        }
        assertEquals(1, timers.size(), "one timer thread in the process");
        // The slack of a thread is read at /proc/TID, not under the process's task directory.
        Path slack = Path.of("/proc", timers.getFirst().getFileName().toString(), "timerslack_ns");
        assertEquals("1", Files.readString(slack).strip());
    }

    private static String comm(Path task) {
        try {
            return Files.readString(task.resolve("comm")).strip();
        } catch (IOException e) {
            return ""; // the thread ended meanwhile
        }
    }
}
