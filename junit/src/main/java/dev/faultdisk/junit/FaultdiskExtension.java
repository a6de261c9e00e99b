package dev.faultdisk.junit;

import dev.faultdisk.client.FaultdiskClient;
import dev.faultdisk.client.QmpException;
import dev.faultdisk.export.Export;
import dev.faultdisk.export.ExportSpec;
import dev.faultdisk.server.FaultdiskServer;
import java.io.IOException;
import java.lang.reflect.Method;
import java.net.InetSocketAddress;
import java.net.URI;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.extension.AfterEachCallback;
import org.junit.jupiter.api.extension.BeforeEachCallback;
import org.junit.jupiter.api.extension.ExtensionConfigurationException;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.junit.jupiter.api.extension.ParameterContext;
import org.junit.jupiter.api.extension.ParameterResolutionException;
import org.junit.jupiter.api.extension.ParameterResolver;
import org.junit.platform.commons.support.AnnotationSupport;

/**
 * The extension behind {@link Faultdisk}: starts a server before each test, resolves the
 * parameters, and stops everything after the test. Registered by the annotation; rarely used
 * directly.
 */
public final class FaultdiskExtension implements BeforeEachCallback, AfterEachCallback, ParameterResolver {
    private static final ExtensionContext.Namespace NAMESPACE =
            ExtensionContext.Namespace.create(FaultdiskExtension.class);
    private static final String KEY = "running";

    @Override
    public void beforeEach(ExtensionContext context) throws Exception {
        Faultdisk config = find(context)
                .orElseThrow(() -> new ExtensionConfigurationException(
                        "FaultdiskExtension needs @Faultdisk on the test method or class"));
        FaultdiskServer.Builder builder = FaultdiskServer.builder()
                .nbd(new InetSocketAddress("127.0.0.1", 0))
                .qmp(new InetSocketAddress("127.0.0.1", 0));
        if (config.exports().length == 0) {
            throw new ExtensionConfigurationException("@Faultdisk(exports = ...) needs at least one export");
        }
        for (String export : config.exports()) {
            try {
                builder.export(ExportSpec.parse(export));
            } catch (IllegalArgumentException e) {
                throw new ExtensionConfigurationException("@Faultdisk export '" + export + "': " + e.getMessage(), e);
            }
        }
        Running running = new Running(builder.start());
        context.getStore(NAMESPACE).put(KEY, running);
        List<Object> triggers = TriggerSpecs.read(config.triggers(), context.getRequiredTestClass());
        if (!triggers.isEmpty()) {
            try {
                running.client().execute("trigger-add", FaultdiskClient.args("triggers", triggers));
            } catch (QmpException e) {
                throw new ExtensionConfigurationException("@Faultdisk triggers: " + e.desc(), e);
            }
        }
    }

    @Override
    public void afterEach(ExtensionContext context) throws Exception {
        Running running = context.getStore(NAMESPACE).remove(KEY, Running.class);
        if (running != null) {
            running.close();
        }
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
        return type == FaultdiskClient.class || type == FaultdiskServer.class;
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
                    + ": @Faultdisk servers live per test, so @BeforeAll and @AfterAll methods cannot take one");
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
        return running.client();
    }

    /** One test's server and, once asked for, its client. */
    private static final class Running implements AutoCloseable {
        private final FaultdiskServer server;
        private FaultdiskClient client;

        Running(FaultdiskServer server) {
            this.server = server;
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
