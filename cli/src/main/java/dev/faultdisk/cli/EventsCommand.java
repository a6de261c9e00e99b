package dev.faultdisk.cli;

import dev.faultdisk.client.Event;
import dev.faultdisk.client.FaultdiskClient;
import dev.faultdisk.client.FaultdiskTimeoutException;
import dev.faultdisk.client.QmpException;
import dev.faultdisk.wire.Suggestions;
import dev.faultdisk.wire.json.Json;
import java.time.Duration;
import java.time.Instant;
import java.time.InstantSource;
import java.time.ZoneId;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.List;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code faultdisk events}: follow the server's events live. */
@Command(
        name = "events",
        mixinStandardHelpOptions = true,
        description = {
            "Print the server's events as they happen (BLOCK_IO_ERROR, BLKDEBUG_SUSPENDED, "
                    + "BLKDEBUG_RESUMED...), until Ctrl-C or --count of them.",
            "Here --timeout bounds the wait for --count events only; without --count it follows forever."
        },
        footer = {
            "  faultdisk events",
            "  faultdisk events --event BLOCK_IO_ERROR --count 1 --timeout 60s",
            "  faultdisk events --json | jq -c 'select(.event == \"BLKDEBUG_SUSPENDED\") | .data'"
        })
final class EventsCommand extends ControlCommand {
    private static final DateTimeFormatter TIME =
            DateTimeFormatter.ofPattern("HH:mm:ss.SSS").withZone(ZoneId.systemDefault());

    private final InstantSource clock = InstantSource.system();

    @Option(
            names = "--count",
            paramLabel = "N",
            description = "Stop after N events (exit 4 if --timeout passes first).")
    Integer count;

    @Option(names = "--event", paramLabel = "NAME", description = "Only events with this name (repeatable).")
    List<String> names = new ArrayList<>();

    @Override
    int run(FaultdiskClient client) {
        if (count != null && count < 1) {
            throw new UsageException("--count must be at least 1");
        }
        checkNames(client);
        // On stderr even with --json: a script may wait for this line before it makes things happen.
        err().println("following events of " + client.address() + (count == null ? " (Ctrl-C to stop)" : ""));
        err().flush();
        // One deadline for all --count events: each wait takes what is left of it.
        Instant deadline = clock.instant().plus(control.timeout);
        int seen = 0;
        while (count == null || seen < count) {
            Duration wait = count == null ? Duration.ofDays(1) : Duration.between(clock.instant(), deadline);
            Event e;
            try {
                e = client.awaitEvent(
                        ev -> wanted(ev) || ev.name().equals(FaultdiskClient.EVENTS_DROPPED),
                        wait.isNegative() ? Duration.ZERO : wait);
            } catch (FaultdiskTimeoutException timeout) {
                if (count == null) {
                    continue;
                }
                long lost = client.serverDroppedEvents();
                throw new FaultdiskTimeoutException(
                        "saw " + seen + " of " + count + " events within " + Durations.format(control.timeout)
                                + (lost > 0 ? " (the server dropped " + lost + " events for this client)" : ""));
            }
            if (!wanted(e)) {
                // The server's notice that this follower fell behind: said even when filtered out.
                err().println("faultdisk events: the server dropped " + e.data().get("count")
                        + " events for this client, which fell behind (some may have been " + String.join(", ", names)
                        + ")");
                err().flush();
                continue;
            }
            print(e);
            seen++;
        }
        return ExitCodes.OK;
    }

    private boolean wanted(Event e) {
        return names.isEmpty() || names.contains(e.name());
    }

    /** A misspelt --event would match nothing and wait forever: the server lists what it emits. */
    private void checkNames(FaultdiskClient client) {
        if (names.isEmpty()) {
            return;
        }
        List<String> known;
        try {
            known = client.queryEvents();
        } catch (QmpException olderServer) {
            return; // a server without query-events: nothing to check against
        }
        for (String name : names) {
            if (!known.contains(name)) {
                String hint = Suggestions.didYouMean(name, known);
                throw new UsageException("--event: the server emits no event '" + name + "' ("
                        + (hint.isEmpty() ? "" : hint + " ") + "events: " + String.join(", ", known) + ")");
            }
        }
    }

    private void print(Event e) {
        if (control.json) {
            out().println(Json.write(e));
        } else {
            StringBuilder sb =
                    new StringBuilder(TIME.format(e.timestamp())).append(' ').append(e.name());
            e.data()
                    .forEach((k, v) ->
                            sb.append(' ').append(k).append('=').append(v instanceof String s ? s : Json.write(v)));
            out().println(sb);
        }
        out().flush();
    }
}
