package dev.faultdisk.cli;

import java.time.Duration;
import java.time.Instant;
import java.time.InstantSource;

/** Time for the scenario runner: tests give it a fake that advances when slept on. */
interface Ticker {
    Instant now();

    void sleep(Duration duration) throws InterruptedException;

    /** The wall clock and Thread.sleep. */
    static Ticker system() {
        InstantSource clock = InstantSource.system();
        return new Ticker() {
            @Override
            public Instant now() {
                return clock.instant();
            }

            @Override
            public void sleep(Duration duration) throws InterruptedException {
                if (duration.isPositive()) {
                    Thread.sleep(duration);
                }
            }
        };
    }
}
