package dev.faultdisk.cli;

import dev.faultdisk.cli.HostTools.ToolException;
import dev.faultdisk.explore.FileSystemMount;
import dev.faultdisk.explore.LoopDevice;
import dev.faultdisk.explore.Nbdfuse;
import java.io.IOException;
import java.net.URI;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;
import java.util.Set;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code faultdisk attach}: makes an NBD export a local block device, nbdfuse (in the background)
 * plus a loop device, optionally with a fresh ext4 file system, mounted. What it set up is
 * recorded for {@code faultdisk detach}; if a step fails, the steps before it are undone.
 */
@Command(
        name = "attach",
        mixinStandardHelpOptions = true,
        description = {
            "Attach an NBD export as a local block device: nbdfuse exposes it as a file, a loop device "
                    + "sits on that file; optionally make an ext4 file system on it and mount it.",
            "Needs root, /dev/fuse, nbdfuse (libnbd-bin), fusermount3 (fuse3) and losetup."
        },
        footer = {
            "  faultdisk attach nbd://127.0.0.1:10809/disk0",
            "  faultdisk attach --mkfs --mount /mnt/disk0 nbd://127.0.0.1:10809/disk0",
            "  faultdisk attach --mount /mnt/disk0 -o barrier=0 nbd://127.0.0.1:10809/disk0",
            "  faultdisk detach disk0"
        })
final class AttachCommand extends AttachmentCommand {

    @Parameters(
            index = "0",
            paramLabel = "URI",
            description =
                    "NBD URI of the export, e.g. nbd://127.0.0.1:10809/disk0 or nbd+unix:///disk0?socket=/tmp/faultdisk.sock")
    String uri;

    @Option(
            names = "--name",
            paramLabel = "NAME",
            description = "Name of this attachment, for detach (default: the export name in the URI).")
    String name;

    @Option(names = "--mkfs", description = "Make an ext4 file system on the device (destroys its content).")
    boolean mkfs;

    @Option(
            names = "--mount",
            paramLabel = "DIR",
            description = "Mount the device's ext4 file system at DIR (created if missing).")
    Path mountPoint;

    @Option(
            names = {"-o", "--mount-options"},
            paramLabel = "OPTIONS",
            description = "Mount options, e.g. barrier=0 (with --mount).")
    String mountOptions;

    private final Deque<Undo> undo = new ArrayDeque<>();

    /** A step that takes back what an earlier step did. */
    private interface Undo {
        void run() throws ToolException, IOException;
    }

    @Override
    public Integer call() {
        String attachName;
        try {
            attachName = Attachment.checkName(name != null ? name : exportName(uri));
            if (mountOptions != null && mountPoint == null) {
                throw new IllegalArgumentException("-o/--mount-options needs --mount DIR");
            }
        } catch (IllegalArgumentException e) {
            System.err.println("faultdisk attach: " + e.getMessage());
            return ExitCodes.USAGE;
        }
        Path dir = stateDir.dir();
        try {
            Attachment a = attach(attachName, dir);
            out.println("faultdisk: attached " + uri + " as '" + attachName + "'");
            out.println("  loop device: " + a.loopDevice());
            if (!a.mountPoint().isEmpty()) {
                out.println("  mount point: " + a.mountPoint());
            }
            out.println("  nbdfuse:     pid " + a.nbdfusePid() + ", file "
                    + a.fuseDir().resolve("nbd"));
            out.println("Detach with: faultdisk detach " + attachName
                    + (stateDir.given != null ? " --state-dir " + stateDir.given : ""));
            out.flush();
            return ExitCodes.OK;
        } catch (ToolException | IOException e) {
            System.err.println("faultdisk attach: " + e.getMessage());
            rollBack();
            return ExitCodes.FAILED;
        }
    }

    private Attachment attach(String attachName, Path dir) throws ToolException, IOException {
        HostTools.requireRoot("faultdisk attach");
        List<String> tools = new ArrayList<>(List.of("nbdfuse", "fusermount3", "losetup"));
        if (mkfs) {
            tools.add("mkfs.ext4");
        }
        if (mountPoint != null) {
            tools.addAll(List.of("mount", "umount"));
        }
        HostTools.require(tools.toArray(String[]::new));
        if (!Files.exists(Path.of("/dev/fuse"))) {
            throw new ToolException("/dev/fuse does not exist (load the fuse module: modprobe fuse)");
        }
        Path stateFile = Attachment.file(dir, attachName);
        if (Files.exists(stateFile)) {
            throw new ToolException("'" + attachName + "' is already attached (see " + stateFile
                    + "); run faultdisk detach " + attachName + " first, or choose another --name");
        }
        Files.createDirectories(dir);
        Path fuseDir = Files.createDirectories(dir.resolve(attachName + ".fuse"));
        if (Mounts.isMountPoint(fuseDir)) {
            throw new ToolException(
                    fuseDir + " is still mounted from an earlier attach; run fusermount3 -u " + fuseDir);
        }
        Nbdfuse fuse = Nbdfuse.start(uri, fuseDir, Attachment.nbdfuseLog(dir, attachName));
        long pid = fuse.pid();
        undo.push(() -> {
            fuse.stop();
            Files.deleteIfExists(stateFile);
            Files.deleteIfExists(Attachment.nbdfuseLog(dir, attachName));
            Files.deleteIfExists(fuseDir);
        });
        Attachment a = new Attachment(attachName, uri, fuseDir, pid, "", "");
        a.save(dir); // from here on, detach can take down whatever this command leaves

        LoopDevice loopDevice = LoopDevice.bind(fuse.image(), Set.of());
        String loop = loopDevice.device();
        a = new Attachment(attachName, uri, fuseDir, pid, loop, "");
        a.save(dir);
        undo.push(loopDevice::detach);

        if (mkfs) {
            HostTools.check("mkfs.ext4", "-q", "-F", loop);
        }
        if (mountPoint != null) {
            Path mnt = mountPoint.toAbsolutePath().normalize();
            FileSystemMount.mount(loop, mnt, "ext4", mountOptions);
            a = new Attachment(attachName, uri, fuseDir, pid, loop, mnt.toString());
            a.save(dir);
        }
        undo.clear();
        return a;
    }

    private void rollBack() {
        while (!undo.isEmpty()) {
            try {
                undo.pop().run();
            } catch (ToolException | IOException e) {
                System.err.println("faultdisk attach: undoing: " + e.getMessage());
            }
        }
    }

    /** The export name an NBD URI names (its path without the leading slash), or "disk" if none. */
    static String exportName(String uri) {
        try {
            URI u = new URI(uri);
            if (u.getScheme() == null || !u.getScheme().startsWith("nbd")) {
                throw new IllegalArgumentException("not an NBD URI: '" + uri
                        + "' (e.g. nbd://127.0.0.1:10809/disk0 or nbd+unix:///disk0?socket=/tmp/faultdisk.sock)");
            }
            String path = u.getPath() == null ? "" : u.getPath();
            String export = path.startsWith("/") ? path.substring(1) : path;
            return export.isEmpty() ? "disk" : export;
        } catch (URISyntaxException e) {
            throw new IllegalArgumentException("not a URI: '" + uri + "': " + e.getReason());
        }
    }
}
