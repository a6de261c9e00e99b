package dev.faultdisk.junit;

import dev.faultdisk.client.FaultdiskClient;
import dev.faultdisk.client.QmpException;
import dev.faultdisk.export.Export;
import dev.faultdisk.export.ExportSpec;
import dev.faultdisk.qmp.CommandRegistry;
import dev.faultdisk.server.FaultdiskServer;
import java.io.IOException;
import java.lang.reflect.Method;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.AfterEachCallback;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.BeforeEachCallback;
import org.junit.jupiter.api.extension.ExtensionConfigurationException;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.junit.jupiter.api.extension.ParameterContext;
import org.junit.jupiter.api.extension.ParameterResolutionException;
import org.junit.jupiter.api.extension.ParameterResolver;
import org.junit.platform.commons.support.AnnotationSupport;

/**
 * The extension behind {@link Faultdisk}: starts a server before each test (or, with
 * {@link Faultdisk#perClass()}, once before the class's tests, cleared between them), resolves
 * the parameters, and stops everything after the test (or the class). Registered by the
 * annotation; rarely used directly.
 */
public final class FaultdiskExtension
        implements BeforeAllCallback, AfterAllCallback, BeforeEachCallback, AfterEachCallback, ParameterResolver {
    private static final ExtensionContext.Namespace NAMESPACE =
            ExtensionContext.Namespace.create(FaultdiskExtension.class);
    private static final String KEY = "running";

    @Override
    public void beforeAll(ExtensionContext context) throws Exception {
        Optional<Faultdisk> config = find(context);
        if (config.isPresent() && config.get().perClass() && running(context) == null) {
            context.getStore(NAMESPACE).put(KEY, start(config.get()));
        }
    }

    @Override
    public void afterAll(ExtensionContext context) throws Exception {
        Running running = context.getStore(NAMESPACE).remove(KEY, Running.class);
        if (running != null) {
            running.close();
        }
    }

    @Override
    public void beforeEach(ExtensionContext context) throws Exception {
        boolean ownAnnotation = context.getElement()
                .flatMap(e -> AnnotationSupport.findAnnotation(e, Faultdisk.class))
                .isPresent();
        Faultdisk config = find(context)
                .orElseThrow(() -> new ExtensionConfigurationException(
                        "FaultdiskExtension needs @Faultdisk on the test method or class"));
        Running running = running(context);
        if (running == null || ownAnnotation) {
            running = start(config);
            context.getStore(NAMESPACE).put(KEY, running);
        } else { // the class's server, cleared after the test before
            running.snapshotSetupOnce();
        }
        addTriggers(running, config, context);
    }

    /** The annotation's triggers, in one trigger-add before the test. */
    private static void addTriggers(Running running, Faultdisk config, ExtensionContext context) {
        List<Object> triggers = TriggerSpecs.read(config.triggers(), context.getRequiredTestClass());
        if (triggers.isEmpty()) {
            return;
        }
        try {
            running.client().execute("trigger-add", FaultdiskClient.args("triggers", triggers));
        } catch (QmpException e) {
            throw new ExtensionConfigurationException("@Faultdisk triggers: " + e.desc(), e);
        }
    }

    @Override
    public void afterEach(ExtensionContext context) throws Exception {
        // remove() takes only this test's own server; a class's server lives in the class's store.
        Running own = context.getStore(NAMESPACE).remove(KEY, Running.class);
        if (own != null) {
            own.close();
            return;
        }
        Running shared = running(context);
        if (shared != null) {
            shared.clear();
        }
    }

    private static Running running(ExtensionContext context) {
        return context.getStore(NAMESPACE).get(KEY, Running.class);
    }

    private static Running start(Faultdisk config) throws IOException {
        FaultdiskServer.Builder builder = FaultdiskServer.builder()
                .nbd(new InetSocketAddress("127.0.0.1", 0))
                .qmp(new InetSocketAddress("127.0.0.1", 0));
        if (config.exports().length == 0) {
            throw new ExtensionConfigurationException("@Faultdisk(exports = ...) needs at least one export");
        }
        List<ExportSpec> specs = new ArrayList<>();
        for (String export : config.exports()) {
            try {
                specs.add(ExportSpec.parse(export));
            } catch (IllegalArgumentException e) {
                throw new ExtensionConfigurationException("@Faultdisk export '" + export + "': " + e.getMessage(), e);
            }
        }
        specs.forEach(builder::export);
        if (config.holdTimeoutSeconds() < 0) {
            throw new ExtensionConfigurationException("@Faultdisk(holdTimeoutSeconds) must be 0 (none) or more");
        }
        if (config.warmUpMillis() < 0) {
            throw new ExtensionConfigurationException("@Faultdisk(warmUpMillis) must be 0 (none) or more");
        }
        builder.warmUp(Duration.ofMillis(config.warmUpMillis()));
        builder.defaultHoldTimeout(
                Duration.ofSeconds(config.holdTimeoutSeconds()),
                "@Faultdisk(holdTimeoutSeconds = " + config.holdTimeoutSeconds()
                        + "); give the rule a timeout-ms, release it, or change holdTimeoutSeconds");
        return new Running(builder.start(), specs, config.perClass() && config.revertData());
    }

    /** The nearest @Faultdisk: on the method, else its class, else an enclosing class. */
    private static Optional<Faultdisk> find(ExtensionContext context) {
        for (ExtensionContext c = context; c != null; c = c.getParent().orElse(null)) {
            Optional<Faultdisk> found =
                    c.getElement().flatMap(e -> AnnotationSupport.findAnnotation(e, Faultdisk.class));
            if (found.isPresent()) {
                return found;
            }
        }
        return Optional.empty();
    }

    @Override
    public boolean supportsParameter(ParameterContext parameter, ExtensionContext context) {
        Class<?> type = parameter.getParameter().getType();
        if (parameter.isAnnotated(ExportUri.class)) {
            return type == String.class || type == URI.class;
        }
        return type == FaultdiskClient.class || type == FaultdiskServer.class || type == CrashExplorer.class;
    }

    @Override
    public Object resolveParameter(ParameterContext parameter, ExtensionContext context) {
        if (!(parameter.getDeclaringExecutable() instanceof Method)) {
            throw new ParameterResolutionException("@Faultdisk starts its server before each test, after the test "
                    + "instance exists: take "
                    + parameter.getParameter().getType().getSimpleName()
                    + " as a parameter of the test or of a @BeforeEach method, not of a constructor");
        }
        Running running = context.getStore(NAMESPACE).get(KEY, Running.class);
        if (running == null) {
            throw new ParameterResolutionException("no faultdisk is running for " + context.getDisplayName()
                    + ": @Faultdisk servers live per test, so @BeforeAll and @AfterAll methods cannot take one "
                    + "(unless @Faultdisk(perClass = true))");
        }
        Class<?> type = parameter.getParameter().getType();
        if (parameter.isAnnotated(ExportUri.class)) {
            String uri = running.uri(
                    parameter.findAnnotation(ExportUri.class).orElseThrow().value());
            return type == URI.class ? URI.create(uri) : uri;
        }
        if (type == FaultdiskServer.class) {
            return running.server;
        }
        if (type == CrashExplorer.class) {
            String test = context.getRequiredTestClass().getSimpleName()
                    + context.getTestMethod().map(m -> "." + m.getName()).orElse("");
            return new CrashExplorer(running.client(), running::uri, Path.of("target", "faultdisk-explore"), test);
        }
        return running.client();
    }

    /** One test's (or class's) server and, once asked for, its client. */
    private static final class Running implements AutoCloseable {
        private final FaultdiskServer server;
        private final List<ExportSpec> specs;
        private FaultdiskClient client;
        /** The snapshot of the data after setup that each test of a class starts from, with revertData. */
        private static final String SETUP_SNAPSHOT = "junit-setup";

        private final boolean revertData;
        private boolean setupTaken;
        /** Events emitted when the client's queue was last emptied; none since: nothing to drop. */
        private long eventsAtLastDrain;

        Running(FaultdiskServer server, List<ExportSpec> specs, boolean revertData) {
            this.server = server;
            this.specs = specs;
            this.revertData = revertData;
        }

        /** With revertData, once: the snapshot every later test starts from (after @BeforeAll setup). */
        synchronized void snapshotSetupOnce() {
            if (!revertData || setupTaken) {
                return;
            }
            for (ExportSpec spec : specs) {
                server.commands().invoke("snapshot-create", Map.of("device", spec.name(), "name", SETUP_SNAPSHOT));
            }
            setupTaken = true;
        }

        /**
         * Between the tests of a class: what one test set up goes, through each family's own
         * command. Triggers first (nothing fires while the rest is cleared), then fault rules
         * (their held requests run), breakpoints (their requests go on), blkdebug rules; exports
         * a test added are removed and the declared ones' cache modes restored. Data and
         * counters stay. Events queued meanwhile are dropped, so the next test sees only its own.
         */
        synchronized void clear() {
            CommandRegistry commands = server.commands();
            commands.invoke("trigger-clear", Map.of());
            Set<String> declared = new HashSet<>();
            for (ExportSpec spec : specs) {
                declared.add(spec.name());
            }
            for (Export e : server.exports().all()) {
                String name = e.name();
                if (!declared.contains(name)) {
                    commands.invoke("export-remove", Map.of("name", name));
                    continue;
                }
                commands.invoke("fault-clear", Map.of("device", name));
                Set<String> tags = new LinkedHashSet<>();
                e.blkdebug().breakpoints().forEach(b -> tags.add(b.tag()));
                e.blkdebug().suspended().forEach(r -> tags.add(r.tag()));
                for (String tag : tags) {
                    commands.invoke("blkdebug-remove-breakpoint", Map.of("device", name, "tag", tag));
                }
                commands.invoke("blkdebug-clear-rules", Map.of("device", name));
            }
            for (ExportSpec spec : specs) {
                Export e = server.exports().find(spec.name()).orElseThrow();
                if (e.writeCache().status().mode() != spec.cache()) {
                    commands.invoke(
                            "write-cache-set-mode",
                            Map.of("device", spec.name(), "mode", spec.cache().label()));
                }
            }
            if (setupTaken) {
                for (ExportSpec spec : specs) {
                    commands.invoke("snapshot-revert", Map.of("device", spec.name(), "name", SETUP_SNAPSHOT));
                }
            }
            long emitted = server.qmp().eventsEmitted();
            if (client != null && client.isOpen() && emitted != eventsAtLastDrain) {
                client.execute("query-version"); // its reply comes after every event emitted before it
                client.drainEvents();
                eventsAtLastDrain = emitted;
            }
        }

        synchronized FaultdiskClient client() {
            if (client == null) {
                try {
                    client = FaultdiskClient.connect(server.qmpAddresses().getFirst(), Duration.ofSeconds(30));
                } catch (IOException e) {
                    throw new ParameterResolutionException(
                            "cannot connect to the test's faultdisk: " + e.getMessage(), e);
                }
            }
            return client;
        }

        String uri(String name) {
            Export export = name.isEmpty()
                    ? server.exports().all().getFirst()
                    : server.exports()
                            .find(name)
                            .orElseThrow(() -> new ParameterResolutionException(
                                    "@ExportUri(\"" + name + "\"): no such export; the test's exports are "
                                            + server.exports().all().stream()
                                                    .map(Export::name)
                                                    .toList()));
            InetSocketAddress nbd = (InetSocketAddress) server.nbdAddress();
            return "nbd://127.0.0.1:" + nbd.getPort() + "/" + export.name();
        }

        @Override
        public synchronized void close() throws IOException {
            try {
                if (client != null) {
                    client.close();
                }
            } finally {
                server.close();
            }
        }
    }
}
