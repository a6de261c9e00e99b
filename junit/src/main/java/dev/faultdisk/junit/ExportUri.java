package dev.faultdisk.junit;

import java.lang.annotation.Documented;
import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;

/**
 * Marks a {@code String} or {@code java.net.URI} parameter that receives the NBD URI of an export
 * of the test's {@link Faultdisk} server, e.g. {@code nbd://127.0.0.1:40123/disk0}, ready for
 * qemu-io, qemu-img, nbdinfo, nbdcopy, fio or nbdfuse.
 */
@Target(ElementType.PARAMETER)
@Retention(RetentionPolicy.RUNTIME)
@Documented
public @interface ExportUri {
    /** The export's name; empty for the first export. */
    String value() default "";
}
