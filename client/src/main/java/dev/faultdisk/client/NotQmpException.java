package dev.faultdisk.client;

import java.io.IOException;

/** The address answers, but with another protocol than QMP (e.g. faultdisk's NBD port): connecting is pointless. */
public final class NotQmpException extends IOException {
    private static final long serialVersionUID = 1L;

    NotQmpException(String message) {
        super(message);
    }
}
