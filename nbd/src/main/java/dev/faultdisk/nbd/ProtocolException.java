package dev.faultdisk.nbd;

/** The peer broke the protocol in a way that ends the connection (bad magic, bad flags). */
public final class ProtocolException extends Exception {
    private static final long serialVersionUID = 1L;

    public ProtocolException(String message) {
        super(message);
    }
}
