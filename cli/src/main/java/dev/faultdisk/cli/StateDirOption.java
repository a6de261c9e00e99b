package dev.faultdisk.cli;

import java.nio.file.Path;
import picocli.CommandLine.Option;

/** Where attach records what it set up and detach finds it: --state-dir, shared by both. */
final class StateDirOption {
    @Option(
            names = "--state-dir",
            paramLabel = "DIR",
            description = "Where attachments are recorded (default: /run/faultdisk, or $XDG_RUNTIME_DIR/faultdisk).")
    Path given;

    /** The directory, absolute. */
    Path dir() {
        return (given != null ? given : Attachment.defaultStateDir())
                .toAbsolutePath()
                .normalize();
    }
}
