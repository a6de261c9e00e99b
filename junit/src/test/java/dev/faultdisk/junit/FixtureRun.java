package dev.faultdisk.junit;

import static org.junit.platform.engine.discovery.DiscoverySelectors.selectClass;

import java.util.List;
import org.junit.platform.launcher.core.LauncherDiscoveryRequestBuilder;
import org.junit.platform.launcher.core.LauncherFactory;
import org.junit.platform.launcher.listeners.SummaryGeneratingListener;
import org.junit.platform.launcher.listeners.TestExecutionSummary;

/** Runs a fixture class through the JUnit launcher, as a build would, for tests of the extension. */
final class FixtureRun {
    private FixtureRun() {}

    /** Runs {@code fixture} after clearing {@code seen}, the list its tests record into. */
    static TestExecutionSummary run(Class<?> fixture, List<?> seen) {
        seen.clear();
        return run(fixture);
    }

    static TestExecutionSummary run(Class<?> fixture) {
        SummaryGeneratingListener listener = new SummaryGeneratingListener();
        LauncherFactory.create()
                .execute(
                        LauncherDiscoveryRequestBuilder.request()
                                .selectors(selectClass(fixture))
                                .build(),
                        listener);
        return listener.getSummary();
    }

    /** The failures of a run, one line each, for assertion messages. */
    static String failures(TestExecutionSummary summary) {
        StringBuilder sb = new StringBuilder();
        summary.getFailures()
                .forEach(f -> sb.append(f.getTestIdentifier().getDisplayName())
                        .append(": ")
                        .append(f.getException())
                        .append('\n'));
        return sb.toString();
    }
}
