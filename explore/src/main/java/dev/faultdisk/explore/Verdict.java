package dev.faultdisk.explore;

import java.util.Locale;

/** What checking a crash state found. */
public enum Verdict {
    /** Mounted, the check passed, fsck found nothing. */
    OK,
    /** The check command failed: the application's promise is broken. */
    CHECK_FAILED,
    /** The check command did not finish within the state timeout. */
    CHECK_TIMEOUT,
    /** The file system would not mount: a violation of its own kind. */
    UNMOUNTABLE,
    /** The check passed but the read-only fsck found file-system corruption. */
    FS_CORRUPT,
    /** Exploration itself failed on this state (not a finding). */
    ERROR;

    /** The name in reports: check-failed, unmountable, ... */
    public String wireName() {
        return name().toLowerCase(Locale.ROOT).replace('_', '-');
    }

    /** True for a finding: everything but OK and ERROR. */
    public boolean isViolation() {
        return this != OK && this != ERROR;
    }
}
