package dev.faultdisk.fault;

/** A fault rule that cannot be accepted; the message names the member, e.g. {@code rules[1].probability}. */
public final class FaultRuleException extends IllegalArgumentException {
    private static final long serialVersionUID = 1L;

    public FaultRuleException(String message) {
        super(message);
    }
}
