package dev.faultdisk.interop;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.faultdisk.client.FaultRule;
import dev.faultdisk.client.FaultdiskClient;
import dev.faultdisk.fault.FaultTime;
import dev.faultdisk.fault.Sleeper;
import dev.faultdisk.nbd.NbdServer;
import dev.faultdisk.server.FaultdiskServer;
import dev.faultdisk.testkit.CommandResult;
import dev.faultdisk.testkit.Fio;
import dev.faultdisk.wire.json.Json;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.time.Instant;
import java.time.InstantSource;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/**
 * fio at queue depth 64 against a 1 ms read delay: the delayed reads wait on the fault clock's
 * timer, not each on a thread of its own. Asserted with what load cannot break: no thread of the
 * server ever waits on the fault clock while fio runs (its sleeper counts the threads inside a
 * wait, and the most there ever were; a delayed read on a thread of its own would wait there),
 * no read comes back sooner than its delay, every read succeeds and was delayed. Counted rather
 * than seen in thread dumps: this JDK's dump of virtual threads can crash the JVM when one changes
 * state meanwhile (JDK-8392031), which it did once in this test. Throughput and
 * latency against nbdkit are measured by bench/compare.sh (docs/BENCHMARKS.md): in a 3 s test
 * on a loaded machine they fall to a few hundred reads a second, so none is asserted here.
 */
class DelayedQueueDepthTest {
    private static final Duration TIMEOUT = Duration.ofSeconds(90);

    @Test
    @SuppressWarnings("unchecked")
    void fioAtQueueDepth64AgainstA1msDelayHoldsNoThreadPerRead() throws Exception {
        CountingSleeper sleeper = new CountingSleeper(Sleeper.system(InstantSource.system()));
        try (FaultdiskServer server = FaultdiskServer.builder()
                        .faultTime(new FaultTime(InstantSource.system(), sleeper))
                        .export("d=memory:16M")
                        .nbd(new InetSocketAddress("127.0.0.1", 0))
                        .nbdOptions(NbdServer.Options.defaults().withMaxInFlight(64))
                        .qmp(new InetSocketAddress("127.0.0.1", 0))
                        .start();
                FaultdiskClient fd =
                        FaultdiskClient.connect(server.qmpAddresses().getFirst(), TIMEOUT)) {
            String uri = "nbd://127.0.0.1:" + ((InetSocketAddress) server.nbdAddress()).getPort() + "/d";
            fd.faultAdd("d", FaultRule.delay().ops("read").with("ms", 1));
            CompletableFuture<CommandResult> fio = CompletableFuture.supplyAsync(() -> Fio.run(
                    uri,
                    List.of(
                            "--rw=randread",
                            "--bs=4k",
                            "--iodepth=64",
                            "--size=8M",
                            "--time_based",
                            "--runtime=3",
                            "--output-format=json")));
            CommandResult r = fio.join().assertOk("fio");
            Map<String, Object> job = (Map<String, Object>) ((List<Object>) ((Map<String, Object>)
                                    Json.parse(r.stdout().substring(r.stdout().indexOf('{'))))
                            .get("jobs"))
                    .getFirst();
            Map<String, Object> read = (Map<String, Object>) job.get("read");
            long ios = ((Number) read.get("total_ios")).longValue();
            double minLatencyMs = ((Number) ((Map<String, Object>) read.get("lat_ns")).get("min")).doubleValue() / 1e6;

            assertEquals(0, ((Number) job.get("error")).intValue(), "fio saw no error");
            assertEquals(0, sleeper.mostWaiting.get(), "threads waiting out a delay at once, at most");
            assertTrue(sleeper.askedRealTime.get() > 0, "the delays were scheduled on real time");
            assertTrue(minLatencyMs >= 1.0, "a read came back " + minLatencyMs + " ms after it was sent");
            assertTrue(fd.queryFaults("d").getFirst().fired() >= ios, "every read fio counted was delayed: " + ios);
        }
    }

    /** The system's sleeper, counting the threads inside a wait on it and the most there ever were. */
    private static final class CountingSleeper implements Sleeper {
        private final Sleeper real;
        private final AtomicInteger waiting = new AtomicInteger();
        final AtomicInteger mostWaiting = new AtomicInteger();
        final AtomicInteger askedRealTime = new AtomicInteger();

        CountingSleeper(Sleeper real) {
            this.real = real;
        }

        @Override
        public void sleepUntil(Instant deadline) throws InterruptedException {
            enter();
            try {
                real.sleepUntil(deadline);
            } finally {
                waiting.decrementAndGet();
            }
        }

        @Override
        public boolean await(CountDownLatch latch, Instant deadline) throws InterruptedException {
            enter();
            try {
                return real.await(latch, deadline);
            } finally {
                waiting.decrementAndGet();
            }
        }

        private void enter() {
            int now = waiting.incrementAndGet();
            mostWaiting.accumulateAndGet(now, Math::max);
        }

        @Override
        public void schedule(Instant deadline, CountDownLatch cutShort, Runnable task) {
            real.schedule(deadline, cutShort, task); // a timer entry, no thread
        }

        @Override
        public void wake(CountDownLatch cutShort) {
            real.wake(cutShort);
        }

        @Override
        public boolean realTime() {
            askedRealTime.incrementAndGet();
            return real.realTime();
        }
    }
}
