package dev.faultdisk.interop;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/** Runs qemu-io on an NBD URI with a list of commands, and reads its report lines. */
final class QemuIo {
    private QemuIo() {
    }

    static Tools.Result run(String uri, String... commands) {
        return run(false, uri, commands);
    }

    static Tools.Result run(boolean readOnly, String uri, String... commands) {
        List<String> command = new ArrayList<>(List.of("qemu-io", "-f", "raw"));
        if (readOnly) {
            command.add("-r");
        }
        for (String c : commands) {
            command.add("-c");
            command.add(c);
        }
        command.add(uri);
        return Tools.run(Duration.ofSeconds(60), command);
    }

    /**
     * The lines that say what happened ("wrote 4096/4096 bytes at offset 0", "Pattern verification
     * failed ..."), without the timing lines that follow each ("4 KiB, 1 ops; 00.00 sec ...").
     */
    static List<String> reports(String stdout) {
        return stdout.lines().filter(l -> !l.contains(" ops; ")).toList();
    }
}
