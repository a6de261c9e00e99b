package dev.faultdisk.qmp;

/** QEMU's error classes ({@code QapiErrorClass}); clients branch on these, not on the text. */
public enum ErrorClass {
    GENERIC_ERROR("GenericError"),
    COMMAND_NOT_FOUND("CommandNotFound"),
    DEVICE_NOT_ACTIVE("DeviceNotActive"),
    DEVICE_NOT_FOUND("DeviceNotFound"),
    KVM_MISSING_CAP("KVMMissingCap");

    private final String wireName;

    ErrorClass(String wireName) {
        this.wireName = wireName;
    }

    /** The name sent in {@code "class"}. */
    public String wireName() {
        return wireName;
    }
}
