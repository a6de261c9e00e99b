package dev.faultdisk.explore;

import java.io.PrintStream;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Objects;

/**
 * What to explore and how: the export and its NBD URI, the file system, the three commands, the
 * state budget and seed, the timeouts and where the run's files go. Build with {@link #builder}.
 */
public final class ExploreOptions {
    final String export;
    final String uri;
    final String fs;
    final boolean mkfs;
    final String mountOptions;
    final String setup;
    final String workload;
    final String check;
    final int maxStates;
    final long seed;
    final Duration stateTimeout;
    final Duration workloadTimeout;
    final Path runDir;
    final int minimize;
    final int tearSize;
    final PrintStream progress;

    private ExploreOptions(Builder b) {
        this.export = Objects.requireNonNull(b.export, "export");
        this.uri = b.uri; // null: the one the server gives in query-block
        this.fs = b.fs;
        this.mkfs = b.mkfs;
        this.mountOptions = b.mountOptions;
        this.setup = b.setup;
        this.workload = Objects.requireNonNull(b.workload, "workload");
        this.check = Objects.requireNonNull(b.check, "check");
        this.maxStates = b.maxStates;
        this.seed = b.seed;
        this.stateTimeout = b.stateTimeout;
        this.workloadTimeout = b.workloadTimeout;
        this.runDir = b.runDir;
        this.minimize = b.minimize;
        this.tearSize = b.tearSize;
        this.progress = b.progress;
        if (!fs.equals("ext4") && !fs.equals("xfs")) {
            throw new IllegalArgumentException("--fs must be ext4 or xfs, not '" + fs + "'");
        }
        if (maxStates < 1) {
            throw new IllegalArgumentException("--max-states must be at least 1, not " + maxStates);
        }
        if (tearSize < 512 || tearSize > 1 << 20 || Integer.bitCount(tearSize) != 1) {
            throw new IllegalArgumentException("--tear-size must be a power of two from 512 to 1M, not " + tearSize);
        }
        if (minimize < 0) {
            throw new IllegalArgumentException("--minimize must be >= 0, not " + minimize);
        }
        if (stateTimeout.isNegative() || stateTimeout.isZero()) {
            throw new IllegalArgumentException("--state-timeout must be more than 0");
        }
        if (workloadTimeout.isNegative() || workloadTimeout.isZero()) {
            throw new IllegalArgumentException("--workload-timeout must be more than 0");
        }
    }

    /** Options for exploring {@code export} with {@code workload}, judged by {@code check}. */
    public static Builder builder(String export, String workload, String check) {
        return new Builder(export, workload, check);
    }

    /** Sets what {@link ExploreOptions} holds; everything but the export and the two commands has a default. */
    public static final class Builder {
        private final String export;
        private final String workload;
        private final String check;
        private String uri;
        private String fs = "ext4";
        private boolean mkfs = true;
        private String mountOptions = "";
        private String setup;
        private int maxStates = 1000;
        private long seed = 1;
        private Duration stateTimeout = Duration.ofSeconds(30);
        private Duration workloadTimeout = Duration.ofMinutes(10);
        private Path runDir;
        private int minimize = 3;
        private int tearSize = 4096;
        private PrintStream progress;

        private Builder(String export, String workload, String check) {
            this.export = export;
            this.workload = workload;
            this.check = check;
        }

        /**
         * The export's NBD URI (default: the one the server gives for it in {@code query-block},
         * or nbd://127.0.0.1:10809/EXPORT from a server that gives none).
         */
        public Builder uri(String value) {
            uri = value;
            return this;
        }

        /** ext4 (default) or xfs. */
        public Builder fs(String value) {
            fs = value;
            return this;
        }

        /** Whether to make a fresh file system first (default true). */
        public Builder mkfs(boolean value) {
            mkfs = value;
            return this;
        }

        /** Mount options for the workload and every state, e.g. data=writeback. */
        public Builder mountOptions(String value) {
            mountOptions = value == null ? "" : value;
            return this;
        }

        /** A command run on the mounted file system before recording starts. */
        public Builder setup(String value) {
            setup = value;
            return this;
        }

        /** Most crash states to check (default 1000). */
        public Builder maxStates(int value) {
            maxStates = value;
            return this;
        }

        /** The seed of the random choices (default 1). */
        public Builder seed(long value) {
            seed = value;
            return this;
        }

        /** Longest a state's mount, check or fsck may take (default 30 s). */
        public Builder stateTimeout(Duration value) {
            stateTimeout = value;
            return this;
        }

        /** Longest the setup and the workload may take (default 10 min). */
        public Builder workloadTimeout(Duration value) {
            workloadTimeout = value;
            return this;
        }

        /** Where the run's history, report and logs go (default ./faultdisk-explore/RUN). */
        public Builder runDir(Path value) {
            runDir = value;
            return this;
        }

        /** How many failing crash points to minimize (default 3). */
        public Builder minimize(int value) {
            minimize = value;
            return this;
        }

        /**
         * The unit a write in flight may tear into (default 4096: the physical sector of 4Kn and
         * 512e drives, written whole; 512 models drives with 512-byte physical sectors).
         */
        public Builder tearSize(int value) {
            tearSize = value;
            return this;
        }

        /** Where to print the progress line (default none). */
        public Builder progress(PrintStream value) {
            progress = value;
            return this;
        }

        public ExploreOptions build() {
            return new ExploreOptions(this);
        }
    }
}
