package dev.faultdisk.cli;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.logging.Level;
import java.util.logging.Logger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class LogSetupTest {

    @AfterEach
    void back() {
        LogSetup.configure("info");
    }

    @Test
    void debugLoggingShowsConnectionDetailButNoStackTraceWhenTheProcessExits() {
        LogSetup.configure("debug");
        assertTrue(Logger.getLogger("dev.faultdisk.nbd").isLoggable(Level.FINE), "debug reaches faultdisk's loggers");
        // The JDK logs Runtime.exit (SIGTERM: exit 143) at this level with a Throwable.
        System.Logger runtime = System.getLogger("java.lang.Runtime");
        assertFalse(runtime.isLoggable(System.Logger.Level.DEBUG), "Runtime.exit is not logged with a stack trace");
    }
}
