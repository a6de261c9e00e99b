package dev.faultdisk.explore;

/** Exploration could not run or go on; the message says why in one sentence. */
public final class ExploreException extends Exception {
    private static final long serialVersionUID = 1L;

    public ExploreException(String message) {
        super(message);
    }
}
