package dev.faultdisk.cli;

import dev.faultdisk.client.BlkdebugBreakpoints;
import dev.faultdisk.client.BlockInfo;
import dev.faultdisk.client.Breakpoint;
import dev.faultdisk.client.Event;
import dev.faultdisk.client.FaultdiskClient;
import dev.faultdisk.client.Suspension;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** {@code faultdisk break}: hold requests at blkdebug events, then let them go. */
@Command(name = "break", mixinStandardHelpOptions = true,
        description = {"Hold the next request that reaches a blkdebug event until resumed: act at the critical moment.",
                "A breakpoint fires once; each hit emits BLKDEBUG_SUSPENDED (see faultdisk events)."},
        subcommands = {BreakCommand.Set.class, BreakCommand.Wait.class, BreakCommand.Resume.class,
                BreakCommand.Remove.class, BreakCommand.ListBreakpoints.class},
        footer = {"", "Examples:",
                "  faultdisk break set disk0 write_aio w1",
                "  faultdisk break wait disk0 w1        # returns once a write is held",
                "  faultdisk blkdebug set-rules disk0 --inject-error flush_to_disk   # act while it is held",
                "  faultdisk break resume disk0 w1"})
final class BreakCommand extends GroupCommand {

    static String describe(Suspension s) {
        return s.device() + ": " + s.tag() + " holds a " + s.operation() + " of " + s.length() + " bytes at offset "
                + s.offset() + " (" + s.event() + ")";
    }

    static Map<String, Object> json(Suspension s) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("device", s.device());
        m.put("tag", s.tag());
        m.put("event", s.event());
        m.put("operation", s.operation());
        m.put("offset", s.offset());
        m.put("length", s.length());
        return m;
    }

    @Command(name = "set", mixinStandardHelpOptions = true,
            description = "Set a breakpoint (blkdebug-set-breakpoint): the next request of EXPORT that reaches EVENT "
                    + "is held under TAG. With --wait, also wait for that hit.",
            footer = {"", "Examples:",
                    "  faultdisk break set disk0 write_aio w1",
                    "  faultdisk break set disk0 flush_to_disk f1 --wait --timeout 2m"})
    static final class Set extends ControlCommand {
        @Parameters(index = "0", paramLabel = "EXPORT", description = "The export.")
        String device;

        @Parameters(index = "1", paramLabel = "EVENT", description = "A blkdebug event: write_aio, read_aio, flush_to_os, "
                + "flush_to_disk, pwritev, pwritev_zero, pwritev_done.")
        String event;

        @Parameters(index = "2", paramLabel = "TAG", description = "A name for the breakpoint.")
        String tag;

        @Option(names = "--wait", description = "Wait (up to --timeout) until a request hits it, and print that request.")
        boolean await;

        @Override
        int run(FaultdiskClient client) {
            Breakpoint bp = client.breakpoint(device, event, tag);
            if (!await) {
                return reply(Map.of("device", device, "event", event, "tag", tag), device + ": breakpoint " + tag + " set at " + event);
            }
            return Wait.report(this, bp.awaitHit(control.timeout));
        }
    }

    @Command(name = "wait", mixinStandardHelpOptions = true,
            description = "Wait (up to --timeout) until a request is held under TAG; at once if one is held already.",
            footer = {"", "Examples:",
                    "  faultdisk break wait disk0 w1 --timeout 5m && echo held"})
    static final class Wait extends ControlCommand {
        @Parameters(index = "0", paramLabel = "EXPORT", description = "The export.")
        String device;

        @Parameters(index = "1", paramLabel = "TAG", description = "The breakpoint's tag.")
        String tag;

        @Override
        int run(FaultdiskClient client) {
            // Events are queued from connection on: a hit between this query and the wait is not lost.
            List<Suspension> held = client.queryBlkdebugBreakpoints(device).suspended(tag);
            if (!held.isEmpty()) {
                return report(this, held.getLast());
            }
            Event e = client.awaitEvent("BLKDEBUG_SUSPENDED",
                    ev -> device.equals(ev.device()) && tag.equals(ev.string("tag")), control.timeout);
            return report(this, Suspension.from(e));
        }

        static int report(ControlCommand c, Suspension s) {
            if (c.control.json) {
                c.printJson(json(s));
            } else {
                c.out().println(describe(s));
                c.out().println("  resume it with: faultdisk break resume " + s.device() + " " + s.tag());
                c.out().flush();
            }
            return ExitCodes.OK;
        }
    }

    @Command(name = "resume", mixinStandardHelpOptions = true,
            description = "Release the most recently held request under TAG (blkdebug-resume).",
            footer = {"", "Examples:", "  faultdisk break resume disk0 w1"})
    static final class Resume extends ControlCommand {
        @Parameters(index = "0", paramLabel = "EXPORT", description = "The export.")
        String device;

        @Parameters(index = "1", paramLabel = "TAG", description = "The breakpoint's tag.")
        String tag;

        @Override
        int run(FaultdiskClient client) {
            client.blkdebugResume(device, tag);
            return reply(Map.of(), device + ": resumed " + tag);
        }
    }

    @Command(name = "remove", mixinStandardHelpOptions = true,
            description = "Remove the breakpoints tagged TAG and release every request held under it "
                    + "(blkdebug-remove-breakpoint).",
            footer = {"", "Examples:", "  faultdisk break remove disk0 w1"})
    static final class Remove extends ControlCommand {
        @Parameters(index = "0", paramLabel = "EXPORT", description = "The export.")
        String device;

        @Parameters(index = "1", paramLabel = "TAG", description = "The breakpoint's tag.")
        String tag;

        @Override
        int run(FaultdiskClient client) {
            client.blkdebugRemoveBreakpoint(device, tag);
            return reply(Map.of(), device + ": removed " + tag);
        }
    }

    @Command(name = "list", mixinStandardHelpOptions = true,
            description = "Show breakpoints not yet hit and requests held now, of one export or all "
                    + "(query-blkdebug-breakpoints).",
            footer = {"", "Examples:", "  faultdisk break list", "  faultdisk break list disk0 --json"})
    static final class ListBreakpoints extends ControlCommand {
        @Parameters(arity = "0..1", paramLabel = "EXPORT", description = "Only this export.")
        String device;

        @Override
        int run(FaultdiskClient client) {
            List<String> devices = device != null ? List.of(device) : client.queryBlock().stream().map(BlockInfo::device).toList();
            Map<String, Object> raw = new LinkedHashMap<>();
            for (String d : devices) {
                raw.put(d, client.execute("query-blkdebug-breakpoints", FaultdiskClient.args("device", d)));
            }
            if (control.json) {
                printJson(device != null ? raw.get(device) : raw);
                return ExitCodes.OK;
            }
            for (String d : devices) {
                BlkdebugBreakpoints b = client.queryBlkdebugBreakpoints(d);
                if (b.breakpoints().isEmpty() && b.suspended().isEmpty()) {
                    out().println(d + ": no breakpoints");
                    continue;
                }
                for (BlkdebugBreakpoints.Pending p : b.breakpoints()) {
                    out().println(d + ": " + p.tag() + " waits at " + p.event());
                }
                for (Suspension s : b.suspended()) {
                    out().println(describe(s));
                }
            }
            out().flush();
            return ExitCodes.OK;
        }
    }
}
