package dev.faultdisk.testkit;

import org.junit.jupiter.api.extension.BeforeEachCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * Reads {@code @Tag("requires-PROGRAM")} on a test or its class as {@link Tools#require}: a test
 * states the program it needs with plain JUnit, without importing this kit (the public JUnit
 * example does this). Found through the ServiceLoader where a module's tests enable JUnit's
 * extension autodetection ({@code junit.jupiter.extensions.autodetection.enabled=true}).
 */
public final class RequiresTag implements BeforeEachCallback {
    static final String PREFIX = "requires-";

    @Override
    public void beforeEach(ExtensionContext context) {
        for (String tag : context.getTags()) {
            if (tag.startsWith(PREFIX)) {
                Tools.require(tag.substring(PREFIX.length()));
            }
        }
    }
}
