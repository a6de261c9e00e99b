package dev.faultdisk.testkit;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;

/** Runs qemu-io on a raw image or NBD URI with a list of commands, and reads its report lines. */
public final class QemuIo {
    /** The bound on one run. */
    public static final Duration TIMEOUT = Duration.ofSeconds(60);

    private QemuIo() {}

    /** {@code qemu-io -f raw -c COMMAND... TARGET}. */
    public static CommandResult run(String target, String... commands) {
        return run(List.of(), target, commands);
    }

    /** {@link #run(String, String...)} opened read-only ({@code -r}). */
    public static CommandResult runReadOnly(String target, String... commands) {
        return run(List.of("-r"), target, commands);
    }

    /** {@code qemu-io -f raw OPTIONS -c COMMAND... TARGET}. */
    public static CommandResult run(List<String> options, String target, String... commands) {
        List<String> command = new ArrayList<>(List.of("qemu-io", "-f", "raw"));
        command.addAll(options);
        for (String c : commands) {
            command.add("-c");
            command.add(c);
        }
        command.add(target);
        return Command.run(TIMEOUT, command);
    }

    /**
     * {@code qemu-io --object OBJECT --image-opts -c COMMAND... IMAGE_OPTIONS}: a client with a
     * QEMU object of its own (TLS credentials, say) on a target given as options ({@code
     * driver=nbd,...,tls-creds=...}).
     */
    public static CommandResult runWithObject(String object, String imageOptions, String... commands) {
        List<String> command = new ArrayList<>(List.of("qemu-io", "--object", object, "--image-opts"));
        for (String c : commands) {
            command.add("-c");
            command.add(c);
        }
        command.add(imageOptions);
        return Command.run(TIMEOUT, command);
    }

    /** {@link #run(String, String...)} on a virtual thread of its own, for a client a test holds mid-request. */
    public static CompletableFuture<CommandResult> start(String target, String... commands) {
        return start(List.of(), target, commands);
    }

    /** {@link #run(List, String, String...)} on a virtual thread of its own. */
    public static CompletableFuture<CommandResult> start(List<String> options, String target, String... commands) {
        return CompletableFuture.supplyAsync(
                () -> run(options, target, commands), r -> Thread.ofVirtual().start(r));
    }

    /**
     * The lines that say what happened ("wrote 4096/4096 bytes at offset 0", "Pattern verification
     * failed ..."), without the timing lines that follow each ("4 KiB, 1 ops; 00.00 sec ...").
     */
    public static List<String> reports(String stdout) {
        return stdout.lines().filter(l -> !l.contains(" ops; ")).toList();
    }
}
