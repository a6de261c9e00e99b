package dev.faultdisk.cli;

import picocli.CommandLine.Option;

import java.nio.file.Path;

/** Where attach records what it set up and detach finds it: --state-dir, shared by both. */
final class StateDirOption {
    @Option(names = "--state-dir", paramLabel = "DIR",
            description = "Where attachments are recorded (default: /run/faultdisk, or $XDG_RUNTIME_DIR/faultdisk).")
    Path given;

    /** The directory, absolute. */
    Path dir() {
        return (given != null ? given : Attachment.defaultStateDir()).toAbsolutePath().normalize();
    }
}
