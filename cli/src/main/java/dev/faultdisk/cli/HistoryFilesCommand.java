package dev.faultdisk.cli;

import dev.faultdisk.filemap.FileMap;
import dev.faultdisk.filemap.HistoryByFile;
import dev.faultdisk.wire.history.HistoryReader;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code faultdisk history-files HISTORY --mount DIR}: a recorded history per file (docs/FILEMAP.md). */
@Command(
        name = "history-files",
        mixinStandardHelpOptions = true,
        description = {
            "Reads a history the recorder wrote (history-start) per file: for each file, directory and file-system"
                    + " structure of the file system mounted at DIR (the export's, mounted again from the same"
                    + " data), the changes that touched it, the bytes, the first and last entry, and how many a"
                    + " completed flush covered."
        },
        footer = {"  faultdisk history-files /var/tmp/n1.history --mount /srv/n1"})
final class HistoryFilesCommand implements Callable<Integer> {
    @Parameters(index = "0", paramLabel = "HISTORY", description = "the history file")
    Path history;

    @Option(names = "--mount", required = true, paramLabel = "DIR", description = "the export's file system, mounted")
    Path mount;

    @Override
    public Integer call() {
        try (HistoryReader r = HistoryReader.open(history)) {
            FileMap map = FileMap.scan(mount);
            List<HistoryByFile.Activity> rows = HistoryByFile.of(r.entries(), map);
            System.out.printf(
                    "%-9s %8s %12s %8s %8s %8s  %s%n", "kind", "changes", "bytes", "first", "last", "durable", "name");
            for (HistoryByFile.Activity a : rows) {
                System.out.printf(
                        "%-9s %8d %12d %8d %8d %8d  %s%n",
                        a.kind(), a.changes(), a.bytes(), a.firstEntry(), a.lastEntry(), a.durable(), a.name());
            }
            return ExitCodes.OK;
        } catch (java.io.IOException | RuntimeException e) {
            System.err.println("faultdisk history-files: " + e.getMessage());
            return ExitCodes.FAILED;
        }
    }
}
