package dev.faultdisk.cli.campaign;

import dev.faultdisk.cli.HostTools;
import dev.faultdisk.cli.HostTools.ToolException;
import dev.faultdisk.cli.Mounts;
import dev.faultdisk.explore.FileSystemMount;
import dev.faultdisk.explore.LoopDevice;
import dev.faultdisk.explore.Nbdfuse;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;

/**
 * A node's export attached on this host: nbdfuse exposes it as a file for the whole campaign;
 * each run puts a fresh loop device on that file and mounts the file system, and takes both
 * down again, so nothing the kernel cached from an earlier run (before a revert) is read.
 * Read-ahead is off below the file system (the FUSE file's, and the loop device's): a request
 * then holds blocks of one file only, which makes file targets exact.
 */
final class NodeDisk implements AutoCloseable {
    private final CampaignSpec spec;
    private final CampaignSpec.Node node;
    private final String uri;
    private final Path fuseDir;
    private final Path mount;
    private Nbdfuse nbdfuse;
    private LoopDevice loop;
    private FileSystemMount mounted;

    /**
     * {@code node} is a slot's view of the node (its export and mount point), {@code uri} where its
     * export is served; {@code tag} names its files.
     */
    NodeDisk(CampaignSpec spec, CampaignSpec.Node node, String uri, String tag) {
        this.spec = spec;
        this.node = node;
        this.uri = uri;
        this.fuseDir = spec.workdir().resolve("attach").resolve(tag + ".fuse");
        this.mount = node.mount();
    }

    Path mount() {
        return mount;
    }

    void attach() throws ToolException, IOException {
        Files.createDirectories(fuseDir);
        Files.createDirectories(mount);
        FileSystemMount.clear(mount);
        if (Mounts.isMountPoint(fuseDir)) {
            HostTools.run("fusermount3", "-u", "-z", fuseDir.toString());
        }
        nbdfuse = Nbdfuse.start(
                uri,
                fuseDir,
                fuseDir.resolveSibling(fuseDir.getFileName().toString().replace(".fuse", ".nbdfuse.log")));
        nbdfuse.readAheadOff();
    }

    /** Makes the file system (setup only). */
    void mkfs() throws ToolException {
        bindLoop();
        try {
            List<String> cmd = new ArrayList<>(List.of("mkfs." + node.filesystem()));
            cmd.addAll(node.filesystem().equals("ext4") ? List.of("-q", "-F", "-b", "4096") : List.of("-q", "-f"));
            cmd.addAll(spec.mkfsOptions());
            cmd.add(loop.device());
            HostTools.check(cmd.toArray(String[]::new));
        } finally {
            unbindLoop();
        }
    }

    void mountFs() throws ToolException {
        bindLoop();
        try {
            mounted = FileSystemMount.mount(loop.device(), mount, node.filesystem(), spec.mountOptions());
        } catch (IOException e) {
            unbindLoop();
            throw new ToolException(node.name() + "'s file system: " + e.getMessage());
        }
    }

    /**
     * Drops what the kernel cached of this disk's metadata (the loop device's buffers: inode
     * tables, directories, bitmaps) and the cached inodes and directory entries of every file
     * system: mapping the files (which stats each one) warmed them, and a read fault on them
     * fires only on a cache miss. The file system is idle, so nothing dirty is lost.
     */
    void dropCaches() throws ToolException, IOException {
        if (loop != null) {
            loop.flushBuffers();
        }
        Files.writeString(Path.of("/proc/sys/vm/drop_caches"), "2");
    }

    /**
     * Unmounts (lazily if it is busy), waits until the file system's instance has ended, and lets
     * go of the loop device.
     */
    void unmountFs() throws ToolException {
        FileSystemMount m = mounted;
        mounted = null;
        try {
            if (m != null) {
                m.unmount();
                m.awaitNoInstance(); // left alive, it could write back after the next revert
            }
        } catch (IOException e) {
            throw new ToolException(e.getMessage());
        } finally {
            unbindLoop();
        }
    }

    private void bindLoop() throws ToolException {
        try {
            loop = LoopDevice.bind(nbdfuse.image(), EnumSet.of(LoopDevice.Option.NO_READ_AHEAD));
        } catch (IOException e) {
            throw new ToolException(e.getMessage());
        }
    }

    private void unbindLoop() throws ToolException {
        if (loop != null) {
            try {
                loop.flushBuffers();
                loop.detach();
            } catch (IOException e) {
                throw new ToolException(e.getMessage());
            }
            loop = null;
        }
    }

    @Override
    public void close() throws ToolException {
        try {
            unmountFs();
        } finally {
            stopNbdfuse();
        }
    }

    private void stopNbdfuse() throws ToolException {
        if (nbdfuse != null) {
            Nbdfuse stopping = nbdfuse;
            nbdfuse = null;
            try {
                stopping.stop();
            } catch (IOException e) {
                throw new ToolException(e.getMessage());
            }
        }
    }
}
