package dev.faultdisk.client;

/** An event listener's registration; closing it stops the deliveries. */
@FunctionalInterface
public interface Subscription extends AutoCloseable {
    @Override
    void close();
}
