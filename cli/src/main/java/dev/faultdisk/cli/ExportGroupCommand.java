package dev.faultdisk.cli;

import dev.faultdisk.client.ExportAdded;
import dev.faultdisk.client.ExportRemoved;
import dev.faultdisk.client.FaultdiskClient;
import java.util.LinkedHashMap;
import java.util.Map;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code faultdisk export}: exports added and removed while the server runs. */
@Command(
        name = "export",
        mixinStandardHelpOptions = true,
        description = "Add and remove exports while the server runs (export-add, export-remove); faultdisk exports "
                + "lists them.",
        subcommands = {ExportGroupCommand.Add.class, ExportGroupCommand.Remove.class},
        footer = {
            "  faultdisk export add scratch memory:64M,cache=writeback",
            "  faultdisk export add data /var/tmp/data.img,size=4G",
            "  faultdisk export add try --from disk0:before-upgrade",
            "  faultdisk export remove scratch"
        })
final class ExportGroupCommand extends GroupCommand {

    @Command(
            name = "add",
            mixinStandardHelpOptions = true,
            description = {
                "Serve a new export, as serve --export NAME=SPEC would (export-add).",
                "SPEC is memory:SIZE, a path to a raw image (,size=SIZE creates it sparse) or blkdebug:CONF:IMAGE,"
                        + " with options ,readonly, ,rules=FILE, ,cache=writethrough|writeback|lying-flush and"
                        + " ,locking=off. A server"
                        + " holds at most 256 exports.",
                "With --from ORIGIN:SNAPSHOT instead of SPEC, a clone: what the snapshot holds, copy-on-write"
                        + " and at once; its writes never reach ORIGIN, which can not be removed while the clone exists."
            },
            footer = {
                "  faultdisk export add scratch memory:64M",
                "  faultdisk export add golden /images/base.raw,readonly",
                "  faultdisk export add try --from disk0:before-upgrade"
            })
    static final class Add extends ExportCommand {
        @Parameters(
                index = "1",
                arity = "0..1",
                paramLabel = "SPEC",
                description = "What serve --export takes after NAME= (or give --from).")
        String exportSpec;

        @Option(
                names = "--from",
                paramLabel = "ORIGIN:SNAPSHOT",
                description = "Clone snapshot SNAPSHOT of export ORIGIN instead of opening SPEC.")
        String from;

        @Override
        Integer before() {
            if ((exportSpec == null) == (from == null)) {
                throw new UsageException(
                        "give SPEC or --from ORIGIN:SNAPSHOT, " + (from == null ? "not neither" : "not both"));
            }
            if (from != null && (from.indexOf(':') <= 0 || from.endsWith(":"))) {
                throw new UsageException("--from: expected ORIGIN:SNAPSHOT, got '" + from + "'");
            }
            return null;
        }

        @Override
        int run(FaultdiskClient client) {
            // A snapshot's name may hold colons: ORIGIN ends at the first.
            ExportAdded added = from == null
                    ? client.exportAdd(device, exportSpec)
                    : client.exportAdd(
                            device, from.substring(0, from.indexOf(':')), from.substring(from.indexOf(':') + 1));
            Map<String, Object> json = new LinkedHashMap<>();
            json.put("name", added.name());
            json.put("size", added.size());
            json.put("read-only", added.readOnly());
            json.put("description", added.description());
            return reply(json, added.name() + ": added, " + Table.size(added.size()) + ", " + added.description());
        }
    }

    @Command(
            name = "remove",
            mixinStandardHelpOptions = true,
            description = {
                "Stop serving an export (export-remove): requests its fault rules hold fail, its connections answer"
                        + " what they have read and close, then it is flushed and closed.",
                "An export a trigger names is refused."
            },
            footer = {"  faultdisk export remove scratch"})
    static final class Remove extends ExportCommand {
        @Override
        int run(FaultdiskClient client) {
            ExportRemoved removed = client.exportRemove(device);
            Map<String, Object> json = new LinkedHashMap<>();
            json.put("connections", removed.connections());
            json.put("held-failed", removed.heldFailed());
            json.put("suspended-released", removed.suspendedReleased());
            return reply(
                    json,
                    device + ": removed; " + removed.connections() + " connection(s) closed, " + removed.heldFailed()
                            + " held request(s) failed");
        }
    }
}
