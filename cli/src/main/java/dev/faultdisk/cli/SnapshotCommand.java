package dev.faultdisk.cli;

import dev.faultdisk.client.FaultdiskClient;
import dev.faultdisk.client.SnapshotInfo;
import dev.faultdisk.client.SnapshotRevert;
import java.util.List;
import java.util.Map;
import picocli.CommandLine.Command;
import picocli.CommandLine.Parameters;

/** {@code faultdisk snapshot}: named copy-on-write snapshots of an export, and instant revert. */
@Command(
        name = "snapshot",
        mixinStandardHelpOptions = true,
        description = "Take, revert to, delete and list copy-on-write snapshots of exports (docs/SNAPSHOTS.md). "
                + "See also faultdisk reset.",
        subcommands = {
            SnapshotCommand.Create.class,
            SnapshotCommand.Revert.class,
            SnapshotCommand.Delete.class,
            SnapshotCommand.ListSnapshots.class
        },
        footer = {
            "  faultdisk snapshot create disk0 clean",
            "  faultdisk snapshot revert disk0 clean",
            "  faultdisk snapshot list"
        })
final class SnapshotCommand extends GroupCommand {

    /** A command about one snapshot of one export: EXPORT NAME. */
    abstract static class Named extends ExportCommand {
        @Parameters(index = "1", paramLabel = "NAME", description = "The snapshot.")
        String name;

        /** Sends {@code command} with the export and the snapshot name; returns the raw reply. */
        final Object send(FaultdiskClient client, String command) {
            return client.execute(command, FaultdiskClient.args("device", device, "name", name));
        }
    }

    @Command(
            name = "create",
            mixinStandardHelpOptions = true,
            description = "Take a snapshot of what the export's clients read now (snapshot-create): instant, "
                    + "copy-on-write in 4 KiB blocks; the write cache is persisted first. At most 64 per export.",
            footer = {"  faultdisk snapshot create disk0 clean"})
    static final class Create extends Named {
        @Override
        int run(FaultdiskClient client) {
            Object raw = send(client, "snapshot-create");
            SnapshotInfo s = SnapshotInfo.from(raw, device);
            return reply(raw, device + ": snapshot " + s.name() + " taken at " + s.time());
        }
    }

    @Command(
            name = "revert",
            mixinStandardHelpOptions = true,
            description = "Return the export's data to a snapshot (snapshot-revert), in time proportional to what "
                    + "changed since; the write cache's dirty data is dropped and counted.",
            footer = {"  faultdisk snapshot revert disk0 clean"})
    static final class Revert extends Named {
        @Override
        int run(FaultdiskClient client) {
            Object raw = send(client, "snapshot-revert");
            SnapshotRevert r = SnapshotRevert.from(raw);
            return reply(
                    raw,
                    device + ": reverted to " + r.name() + " (" + Table.size(r.bytesReverted())
                            + " dropped, " + Table.size(r.cacheBytesDropped()) + " of dirty cache in "
                            + r.cacheRangesDropped() + " ranges dropped)");
        }
    }

    @Command(
            name = "delete",
            mixinStandardHelpOptions = true,
            description = "Delete a snapshot (snapshot-delete); the data does not change.",
            footer = {"  faultdisk snapshot delete disk0 clean"})
    static final class Delete extends Named {
        @Override
        int run(FaultdiskClient client) {
            send(client, "snapshot-delete");
            return reply(Map.of(), device + ": snapshot " + name + " deleted");
        }
    }

    @Command(
            name = "list",
            mixinStandardHelpOptions = true,
            description =
                    "The snapshots of one export or all (query-snapshots): name, time taken, bytes changed since.",
            footer = {"  faultdisk snapshot list", "  faultdisk snapshot list disk0 --json"})
    static final class ListSnapshots extends OneOrAllExportsCommand {
        @Override
        int run(FaultdiskClient client) {
            Object raw = client.execute("query-snapshots", FaultdiskClient.args("device", device));
            if (control.json) {
                printJson(raw);
                return ExitCodes.OK;
            }
            List<SnapshotInfo> all = client.querySnapshots(device);
            Table table = new Table("EXPORT", "SNAPSHOT", "TAKEN", "CHANGED-SINCE");
            for (SnapshotInfo s : all) {
                table.row(s.device(), s.name(), s.time(), Table.size(s.bytesChangedSince()));
            }
            table.print(out());
            return ExitCodes.OK;
        }
    }
}
