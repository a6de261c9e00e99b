package dev.faultdisk.nbd;

/** How a connection's replies are framed, as its negotiation chose. */
enum ReplyForm {
    /** 16-byte simple replies, a read's data after its reply. */
    SIMPLE,
    /** Simple replies, and 20-byte structured chunks for reads, block status and their errors. */
    STRUCTURED,
    /** A 32-byte extended chunk for every reply (simple replies are then forbidden). */
    EXTENDED;

    static ReplyForm of(boolean structured, boolean extended) {
        return extended ? EXTENDED : structured ? STRUCTURED : SIMPLE;
    }

    /** Whether reads and block status are answered in chunks. */
    boolean chunks() {
        return this != SIMPLE;
    }
}
