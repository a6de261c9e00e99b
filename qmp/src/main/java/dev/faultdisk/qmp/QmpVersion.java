package dev.faultdisk.qmp;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * What the greeting and {@code query-version} report. QMP calls the triple "qemu"; here it is
 * faultdisk's own version, and {@code package} names the program.
 */
public record QmpVersion(int major, int minor, int micro, String packageName) {
    public static final QmpVersion DEFAULT = new QmpVersion(0, 1, 0, "faultdisk 0.1.0");

    public QmpVersion {
        if (major < 0 || minor < 0 || micro < 0) {
            throw new IllegalArgumentException("negative version number");
        }
        if (packageName == null) {
            throw new IllegalArgumentException("package name is null");
        }
    }

    /** QEMU's {@code VersionInfo}, members in the order QEMU prints them. */
    public Map<String, Object> toJson() {
        Map<String, Object> triple = new LinkedHashMap<>();
        triple.put("micro", (long) micro);
        triple.put("minor", (long) minor);
        triple.put("major", (long) major);
        Map<String, Object> info = new LinkedHashMap<>();
        info.put("qemu", triple);
        info.put("package", packageName);
        return info;
    }
}
