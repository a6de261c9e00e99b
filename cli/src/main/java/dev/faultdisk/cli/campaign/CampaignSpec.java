package dev.faultdisk.cli.campaign;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;

/**
 * A campaign file, checked whole (docs/CAMPAIGNS.md): the nodes and their exports, the file
 * system, the commands that start, stop, probe and load the system, the workload and the check,
 * the targets and fault kinds.
 *
 * @param name        the campaign's name (report title, export snapshot names)
 * @param file        the campaign file
 * @param workdir     where runs, logs and the report go
 * @param filesystem  ext4 or xfs
 * @param mkfsOptions extra mkfs arguments
 * @param mountOptions mount options, or empty
 * @param nodes       the nodes, numbered from 1
 * @param start       starts one node (runs in the background until stopped)
 * @param stop        stops one node, or empty: SIGTERM, then SIGKILL after the stop timeout
 * @param probe       exits 0 once the node serves
 * @param role        prints the node's role (leader, follower, ...), or empty
 * @param setup       run once with the fresh cluster up: loads the data; its stdout is kept as acked
 * @param workload    run in each run; prints what was acknowledged
 * @param check       prints the run's outcome as its last line's first word
 * @param faults      the fault kinds
 * @param files       glob patterns (relative to the mount point) of the files to aim at; empty:
 *                    every file the trace run saw the node touch
 * @param structures  aim at the file system's structures the trace saw touched, too
 * @param pieces      cut each file's touched span into this many targets (1: the whole file; 0:
 *                    one per 4 KiB block)
 * @param timeouts    bounds on each step
 * @param slowMs      the slow block's delay
 * @param seed        the seed every rule's seed derives from
 * @param restart     which runs restart the nodes between the workload and the check
 */
public record CampaignSpec(
        String name,
        Path file,
        Path workdir,
        String filesystem,
        List<String> mkfsOptions,
        String mountOptions,
        List<Node> nodes,
        String start,
        String stop,
        String probe,
        String role,
        String setup,
        String workload,
        String check,
        List<FaultKind> faults,
        List<String> files,
        boolean structures,
        int pieces,
        Timeouts timeouts,
        long slowMs,
        long seed,
        Restart restart) {

    /**
     * Which runs restart every node after the workload (stop, unmount, mount on a fresh loop
     * device, start, probe) before the check: a write that never reached the disk, or reached it
     * torn, is read back only once the page cache above the disk is gone.
     */
    public enum Restart implements WireNamed {
        /** Runs of the write fault kinds (lost, torn, EIO, ENOSPC); the default. */
        WRITE_FAULTS,
        ALWAYS,
        NEVER;

        /** True if a run of {@code fault} restarts the nodes. */
        public boolean restarts(FaultKind fault) {
            return this == ALWAYS || (this == WRITE_FAULTS && fault.onWrites());
        }

        public static java.util.Optional<Restart> byName(String name) {
            return WireNamed.byName(values(), name);
        }
    }

    /**
     * One node: where its disk is served and what the commands may say about it.
     *
     * @param number     1, 2, ... in the file's order
     * @param name       its name
     * @param qmp        the control address of the faultdisk server serving its export
     * @param nbd        the NBD URI of its export (nbd://host:port/export or nbd+unix:///export?socket=...)
     * @param export     the export's name on that server
     * @param exportSpec what export-add creates when the export is missing ({@code memory:256M})
     * @param vars       the node's variables ({var:NAME} in commands)
     * @param filesystem its file system (the campaign's unless the node names one)
     * @param mount      where its file system is mounted, or null: WORKDIR/mnt/NAME
     */
    public record Node(
            int number,
            String name,
            String qmp,
            String nbd,
            String export,
            String exportSpec,
            Map<String, String> vars,
            String filesystem,
            Path mount) {}

    /** Bounds on the steps of a run. */
    public record Timeouts(Duration start, Duration setup, Duration workload, Duration check, Duration stop) {}
}
