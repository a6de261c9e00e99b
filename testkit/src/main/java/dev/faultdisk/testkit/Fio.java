package dev.faultdisk.testkit;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/** Runs fio's nbd engine (libnbd) against an NBD URI. */
public final class Fio {
    /** The bound on one run. */
    public static final Duration TIMEOUT = Duration.ofSeconds(90);

    private Fio() {}

    /** {@code fio --name=faultdisk --ioengine=nbd --uri=URI JOB...}; skips (or under CI fails) without fio. */
    public static CommandResult run(String uri, List<String> job) {
        Tools.require("fio");
        List<String> command = new ArrayList<>(List.of("fio", "--name=faultdisk", "--ioengine=nbd", "--uri=" + uri));
        command.addAll(job);
        return Command.run(TIMEOUT, command);
    }
}
