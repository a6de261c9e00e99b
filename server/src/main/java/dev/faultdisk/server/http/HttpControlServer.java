package dev.faultdisk.server.http;

import com.sun.net.httpserver.HttpContext;
import com.sun.net.httpserver.HttpServer;
import com.sun.net.httpserver.HttpsConfigurator;
import com.sun.net.httpserver.HttpsParameters;
import com.sun.net.httpserver.HttpsServer;
import dev.faultdisk.qmp.CommandRegistry;
import dev.faultdisk.qmp.QmpServer;
import io.prometheus.metrics.exporter.httpserver.MetricsHandler;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import java.io.IOException;
import java.lang.System.Logger.Level;
import java.net.InetSocketAddress;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import javax.net.ssl.SSLParameters;

/**
 * The HTTP face of a server (docs/HTTP.md): the dashboard at {@code /}, every control command
 * under {@code /api/v1/}, the events as Server-Sent Events, the OpenAPI document and the
 * Prometheus metrics at {@code /metrics}. Built on the JDK's HTTP server; each request runs on a
 * virtual thread of its own, within the budgets of {@link HttpOptions}.
 */
public final class HttpControlServer implements AutoCloseable {
    private static final System.Logger LOG = System.getLogger(HttpControlServer.class.getName());

    /**
     * Bounds every JDK HTTP server of the process (this one and the metrics listener): 256
     * connections at once, and 30 s to send a request (headers and body), so that idle or slow
     * clients cannot hold sockets without end. Responses have no limit: an event stream lasts. The
     * JDK reads these once, before its first server starts; a value set on the command line wins.
     */
    public static void limitConnections() {
        setIfAbsent("sun.net.httpserver.maxConnections", "256");
        setIfAbsent("sun.net.httpserver.maxReqTime", "30");
    }

    private static void setIfAbsent(String property, String value) {
        if (System.getProperty(property) == null) {
            System.setProperty(property, value);
        }
    }

    private final HttpServer server;
    private final ExecutorService executor;
    private final EventStream events;
    private final boolean tls;

    private HttpControlServer(HttpServer server, ExecutorService executor, EventStream events, boolean tls) {
        this.server = server;
        this.executor = executor;
        this.events = events;
        this.tls = tls;
    }

    /** Listens on {@code address} (port 0 picks one) and serves until closed. */
    public static HttpControlServer start(
            InetSocketAddress address,
            HttpOptions options,
            CommandRegistry commands,
            QmpServer qmp,
            PrometheusRegistry metrics)
            throws IOException {
        limitConnections();
        HttpServer server;
        if (options.tls() != null) {
            HttpsServer https = HttpsServer.create(address, 64);
            https.setHttpsConfigurator(configurator(options));
            server = https;
        } else {
            server = HttpServer.create(address, 64);
        }
        Guard guard = new Guard(options, server.getAddress().getAddress());
        EventStream events = new EventStream(qmp, options);
        context(server, "/", new StaticFiles(), guard);
        context(server, ApiHandler.PREFIX, new ApiHandler(commands, options.limits()), guard);
        context(server, EventStream.PATH, events, guard);
        context(server, "/metrics", new MetricsHandler(metrics), guard);
        ExecutorService executor = Executors.newThreadPerTaskExecutor(
                Thread.ofVirtual().name("http-", 0).factory());
        server.setExecutor(executor);
        server.start();
        return new HttpControlServer(server, executor, events, options.tls() != null);
    }

    /** TLS as the options say; with verifyPeer a client without a trusted certificate fails the handshake. */
    public static HttpsConfigurator configurator(HttpOptions options) {
        return new HttpsConfigurator(options.tls()) {
            @Override
            public void configure(HttpsParameters params) {
                SSLParameters p = options.tls().getDefaultSSLParameters();
                p.setNeedClientAuth(options.verifyPeer());
                params.setSSLParameters(p);
            }
        };
    }

    private static void context(HttpServer server, String path, com.sun.net.httpserver.HttpHandler h, Guard guard) {
        HttpContext context = server.createContext(path, h);
        context.getFilters().add(guard);
    }

    /** The bound address, with the real port. */
    public InetSocketAddress address() {
        return server.getAddress();
    }

    /** The dashboard's address, e.g. {@code http://127.0.0.1:8080/}. */
    public String url() {
        InetSocketAddress a = address();
        String host = a.getAddress().getHostAddress();
        if (host.contains(":")) {
            host = "[" + host + "]";
        }
        return (tls ? "https://" : "http://") + host + ":" + a.getPort() + "/";
    }

    /** Ends the event streams, stops listening and closes every connection. */
    @Override
    public void close() {
        events.close();
        server.stop(0);
        executor.shutdownNow();
        LOG.log(Level.DEBUG, "HTTP server on {0} stopped", address());
    }
}
