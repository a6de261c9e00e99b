package dev.faultdisk.wire;

import java.io.IOException;
import java.nio.file.AccessDeniedException;
import java.nio.file.FileSystemException;
import java.nio.file.NoSuchFileException;
import java.nio.file.NotDirectoryException;

/**
 * Why a file could not be used, in words: the JDK's file exceptions carry only the path as their
 * message ({@code /etc/x.json} for a missing file), which read after "cannot read /etc/x.json: "
 * says nothing.
 */
public final class FileErrors {
    private FileErrors() {}

    /** "no such file or directory", "permission denied", "not a directory", the system's own reason, or the message. */
    public static String reason(IOException e) {
        return switch (e) {
            case NoSuchFileException x -> "no such file or directory";
            case AccessDeniedException x -> "permission denied";
            case NotDirectoryException x -> "not a directory";
            case FileSystemException x when x.getReason() != null -> x.getReason();
            default -> e.getMessage() != null ? e.getMessage() : e.toString();
        };
    }
}
