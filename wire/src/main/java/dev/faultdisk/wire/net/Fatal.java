package dev.faultdisk.wire.net;

/**
 * What a long-lived thread does with a Throwable it caught: an out-of-memory error (or another
 * error the JVM cannot recover from) ends the process with a clear message and a non-zero status,
 * so that a supervisor restarts it; anything else is the caller's to log and survive. A server
 * that limps on after an OutOfMemoryError is alive but deaf, which is worse than dead.
 */
public final class Fatal {
    /** The status the process ends with: the same as {@code -XX:+ExitOnOutOfMemoryError}. */
    public static final int EXIT_STATUS = 3;

    private Fatal() {}

    /** Halts the process if {@code t} is an error nothing survives; returns otherwise. */
    public static void check(Throwable t, String where) {
        if (t instanceof VirtualMachineError && !(t instanceof StackOverflowError)) {
            try {
                System.err.println("faultdisk: fatal: " + t + " in " + where + "; exiting with status " + EXIT_STATUS);
                System.err.flush();
            } finally {
                Runtime.getRuntime().halt(EXIT_STATUS);
            }
        }
    }
}
