package dev.faultdisk.nbd;

import java.util.List;

/** The process's live threads by name, for tests of which threads serve connections. */
final class LiveThreads {
    private LiveThreads() {}

    /** Names of the live threads whose name starts with {@code prefix} (virtual threads are not listed). */
    static List<String> named(String prefix) {
        return Thread.getAllStackTraces().keySet().stream()
                .filter(Thread::isAlive)
                .map(Thread::getName)
                .filter(n -> n.startsWith(prefix))
                .toList();
    }

    /** The live platform threads reading NBD connections (a kept reader waiting is named otherwise). */
    static List<String> platformReaders() {
        return named(ReaderThreads.NAME);
    }
}
