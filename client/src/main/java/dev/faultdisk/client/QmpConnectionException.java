package dev.faultdisk.client;

import java.io.IOException;
import java.io.UncheckedIOException;

/** The control connection failed or closed (the server stopped, or the client was closed). */
public final class QmpConnectionException extends UncheckedIOException {
    public QmpConnectionException(String message, IOException cause) {
        super(message, cause);
    }

    public QmpConnectionException(String message) {
        super(message, new IOException(message));
    }
}
