package dev.faultdisk.cli;

import dev.faultdisk.client.BlkdebugBreakpoints;
import dev.faultdisk.client.Breakpoint;
import dev.faultdisk.client.FaultdiskClient;
import dev.faultdisk.client.Suspension;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code faultdisk break}: hold requests at blkdebug events, then let them go. */
@Command(
        name = "break",
        mixinStandardHelpOptions = true,
        description = "Hold the next request that reaches a blkdebug event until resumed: act at the critical moment. "
                + "A breakpoint fires once; each hit emits BLKDEBUG_SUSPENDED (see faultdisk events).",
        subcommands = {
            BreakCommand.Set.class,
            BreakCommand.Wait.class,
            BreakCommand.Resume.class,
            BreakCommand.Remove.class,
            BreakCommand.ListBreakpoints.class
        },
        footer = {
            "  faultdisk break set disk0 write_aio w1",
            "  faultdisk break wait disk0 w1        # returns once a write is held",
            "  faultdisk blkdebug set-rules disk0 --inject-error flush_to_disk   # act while it is held",
            "  faultdisk break resume disk0 w1"
        })
final class BreakCommand extends GroupCommand {

    /** A command about the breakpoint of one export that its second parameter names. */
    abstract static class TaggedCommand extends ExportCommand {
        @Parameters(index = "1", paramLabel = "TAG", description = "The breakpoint's tag.")
        String tag;
    }

    /** How set --wait and wait end without --json: the request held, and how to let it go. */
    private static String heldText(Suspension s) {
        return Suspensions.line(s) + System.lineSeparator() + "  resume it with: faultdisk break resume " + s.device()
                + " " + s.tag();
    }

    @Command(
            name = "set",
            mixinStandardHelpOptions = true,
            description = "Set a breakpoint (blkdebug-set-breakpoint): the next request of EXPORT that reaches EVENT "
                    + "is held under TAG. With --wait, also wait for that hit.",
            footer = {
                "  faultdisk break set disk0 write_aio w1",
                "  faultdisk break set disk0 flush_to_disk f1 --wait --timeout 2m"
            })
    static final class Set extends ExportCommand {
        @Parameters(
                index = "1",
                paramLabel = "EVENT",
                description = "A blkdebug event: write_aio, read_aio, flush_to_os, "
                        + "flush_to_disk, pwritev, pwritev_zero, pwritev_done.")
        String event;

        @Parameters(index = "2", paramLabel = "TAG", description = "A name for the breakpoint.")
        String tag;

        @Option(
                names = "--wait",
                description = "Wait (up to --timeout) until a request hits it, and print that request.")
        boolean waitForHit;

        @Override
        int run(FaultdiskClient client) {
            Breakpoint bp = client.breakpoint(device, event, tag);
            if (!waitForHit) {
                return reply(
                        Map.of("device", device, "event", event, "tag", tag),
                        device + ": breakpoint " + tag + " set at " + event);
            }
            Suspension hit = bp.awaitHit(control.timeout);
            return reply(Suspensions.json(hit), heldText(hit));
        }
    }

    @Command(
            name = "wait",
            mixinStandardHelpOptions = true,
            description = "Wait (up to --timeout) until a request is held under TAG; at once if one is held already.",
            footer = {"  faultdisk break wait disk0 w1 --timeout 5m && echo held"})
    static final class Wait extends TaggedCommand {
        @Override
        int run(FaultdiskClient client) {
            // Events are queued from connection on: a hit between this query and the wait is not lost.
            BlkdebugBreakpoints now = client.queryBlkdebugBreakpoints(device);
            List<Suspension> held = now.suspended(tag);
            if (held.isEmpty()
                    && now.breakpoints().stream().noneMatch(b -> b.tag().equals(tag))) {
                // Nothing could ever be held under this tag: waiting would only run out the timeout.
                throw new UsageException(device + " has no breakpoint '" + tag + "' (" + describe(now)
                        + "; set one with faultdisk break set " + device + " EVENT " + tag + ")");
            }
            Suspension hit = held.isEmpty()
                    ? Suspension.from(client.awaitEvent(
                            "BLKDEBUG_SUSPENDED",
                            ev -> device.equals(ev.device()) && tag.equals(ev.string("tag")),
                            control.timeout))
                    : held.getLast();
            return reply(Suspensions.json(hit), heldText(hit));
        }
    }

    /** "breakpoints: fsync at flush_to_disk, w1 at write_aio; held: w0" or "it has none". */
    private static String describe(BlkdebugBreakpoints b) {
        if (b.breakpoints().isEmpty() && b.suspended().isEmpty()) {
            return "it has none";
        }
        List<String> parts = new ArrayList<>();
        if (!b.breakpoints().isEmpty()) {
            parts.add("breakpoints: "
                    + b.breakpoints().stream()
                            .map(p -> p.tag() + " at " + p.event())
                            .collect(Collectors.joining(", ")));
        }
        if (!b.suspended().isEmpty()) {
            parts.add("held: "
                    + b.suspended().stream().map(Suspension::tag).distinct().collect(Collectors.joining(", ")));
        }
        return String.join("; ", parts);
    }

    @Command(
            name = "resume",
            mixinStandardHelpOptions = true,
            description = "Release the most recently held request under TAG (blkdebug-resume).",
            footer = {"  faultdisk break resume disk0 w1"})
    static final class Resume extends TaggedCommand {
        @Override
        int run(FaultdiskClient client) {
            client.blkdebugResume(device, tag);
            return reply(Map.of(), device + ": resumed " + tag);
        }
    }

    @Command(
            name = "remove",
            mixinStandardHelpOptions = true,
            description = "Remove the breakpoints tagged TAG and release every request held under it "
                    + "(blkdebug-remove-breakpoint).",
            footer = {"  faultdisk break remove disk0 w1"})
    static final class Remove extends TaggedCommand {
        @Override
        int run(FaultdiskClient client) {
            client.blkdebugRemoveBreakpoint(device, tag);
            return reply(Map.of(), device + ": removed " + tag);
        }
    }

    @Command(
            name = "list",
            mixinStandardHelpOptions = true,
            description = "Show breakpoints not yet hit and requests held now, of one export or all "
                    + "(query-blkdebug-breakpoints).",
            footer = {"  faultdisk break list", "  faultdisk break list disk0 --json"})
    static final class ListBreakpoints extends OneOrAllExportsCommand {
        @Override
        int run(FaultdiskClient client) {
            // The client offers the typed view only of a reply it fetched itself: text asks once more per export.
            return replyEach(
                    client, "query-blkdebug-breakpoints", (d, raw) -> print(d, client.queryBlkdebugBreakpoints(d)));
        }

        private void print(String export, BlkdebugBreakpoints b) {
            if (b.breakpoints().isEmpty() && b.suspended().isEmpty()) {
                out().println(export + ": no breakpoints");
                return;
            }
            for (BlkdebugBreakpoints.Pending p : b.breakpoints()) {
                out().println(export + ": " + p.tag() + " waits at " + p.event());
            }
            for (Suspension s : b.suspended()) {
                out().println(Suspensions.line(s));
            }
        }
    }
}
