package dev.faultdisk.server;

import dev.faultdisk.export.Export;
import dev.faultdisk.qmp.QmpError;
import java.io.IOException;

/** A command's call on an export that may fail on bad input (nothing changed) or on I/O on the medium. */
@FunctionalInterface
interface ExportCall<T> {
    T call() throws IOException;

    /** Runs {@code call}: bad input becomes a GenericError with the export's text; I/O failures say which export. */
    static <T> T run(Export e, ExportCall<T> call) {
        try {
            return call.call();
        } catch (IllegalArgumentException ex) {
            throw QmpError.generic("%s", ex.getMessage());
        } catch (IOException ex) {
            throw QmpError.generic("export '%s': %s", e.name(), ex.getMessage());
        }
    }
}
