package dev.faultdisk.cli;

import dev.faultdisk.cli.HostTools.ToolException;
import dev.faultdisk.explore.FileSystemMount;
import dev.faultdisk.explore.LoopDevice;
import dev.faultdisk.explore.Nbdfuse;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import picocli.CommandLine.Command;
import picocli.CommandLine.Parameters;

/**
 * {@code faultdisk detach}: takes down what {@code faultdisk attach} set up, in reverse: umount,
 * losetup -d, fusermount3 -u. Made for disks that misbehave: if umount fails (a disk that lost its
 * power fails every write) it unmounts lazily, and every later step still runs.
 */
@Command(
        name = "detach",
        mixinStandardHelpOptions = true,
        description = {
            "Take down an attachment made by faultdisk attach: unmount its file system, detach its "
                    + "loop device and stop nbdfuse.",
            "Falls back to lazy unmounts when the disk no longer answers."
        },
        footer = {"  faultdisk detach disk0", "  faultdisk detach          (when only one is attached)"})
final class DetachCommand extends AttachmentCommand {

    @Parameters(
            index = "0",
            arity = "0..1",
            paramLabel = "NAME",
            description = "The attachment's name (optional when only one is attached).")
    String name;

    @Override
    public Integer call() {
        Path dir = stateDir.dir();
        Attachment a;
        try {
            a = Attachment.load(Attachment.file(dir, pick(dir)));
            HostTools.requireRoot("faultdisk detach");
            HostTools.require("umount", "losetup", "fusermount3");
        } catch (ToolException | IOException | IllegalArgumentException e) {
            System.err.println("faultdisk detach: " + e.getMessage());
            return e instanceof IllegalArgumentException ? ExitCodes.USAGE : ExitCodes.FAILED;
        }
        List<String> notes = new ArrayList<>();
        List<String> problems = new ArrayList<>();
        unmount(a, notes, problems);
        detachLoop(a, problems);
        try {
            Nbdfuse.stop(a.fuseDir(), a.nbdfusePid()).ifPresent(notes::add);
        } catch (IOException e) {
            problems.add(e.getMessage());
        }
        if (problems.isEmpty()) {
            try {
                Files.deleteIfExists(Attachment.file(dir, a.name()));
                Files.deleteIfExists(Attachment.nbdfuseLog(dir, a.name()));
                if (!Mounts.isMountPoint(a.fuseDir())) {
                    Files.deleteIfExists(a.fuseDir());
                }
            } catch (IOException e) {
                notes.add("could not remove state: " + e.getMessage());
            }
        }
        out.println("faultdisk: " + (problems.isEmpty() ? "detached '" : "could not fully detach '") + a.name() + "'"
                + (a.loopDevice().isEmpty() ? "" : " (" + a.loopDevice() + ")"));
        notes.forEach(n -> out.println("  note: " + n));
        out.flush();
        problems.forEach(p -> System.err.println("faultdisk detach: " + p));
        return problems.isEmpty() ? ExitCodes.OK : ExitCodes.FAILED;
    }

    /** The attachment to take down: the one named, or the only one there is. */
    private String pick(Path dir) throws IOException {
        List<String> names = Attachment.names(dir);
        if (name != null) {
            Attachment.checkName(name);
            if (!names.contains(name)) {
                throw new IllegalArgumentException("nothing attached as '" + name + "' (in " + dir + ": "
                        + (names.isEmpty() ? "none" : String.join(", ", names)) + ")");
            }
            return name;
        }
        if (names.size() == 1) {
            return names.getFirst();
        }
        throw new IllegalArgumentException(
                names.isEmpty()
                        ? "nothing is attached (no state in " + dir + ")"
                        : "several attachments, name one: " + String.join(", ", names));
    }

    private static void unmount(Attachment a, List<String> notes, List<String> problems) {
        if (a.mountPoint().isEmpty()) {
            return;
        }
        try { // unmounts only what is still mounted
            FileSystemMount.of(a.loopDevice(), Path.of(a.mountPoint()), "ext4")
                    .unmount()
                    .ifPresent(notes::add);
        } catch (IOException e) {
            problems.add(e.getMessage());
        }
    }

    /** Detaches the loop device if it is still bound to this attachment's file. */
    private static void detachLoop(Attachment a, List<String> problems) {
        if (a.loopDevice().isEmpty()) {
            return;
        }
        try {
            LoopDevice.of(a.loopDevice(), a.fuseDir().resolve("nbd")).detach();
        } catch (IOException e) {
            problems.add(e.getMessage());
        }
    }
}
