package dev.faultdisk.server.http;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpHandler;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.util.Map;

/**
 * The dashboard's files, from the jar: its page, script and style, and the chart library uPlot
 * from its WebJar. Nothing is fetched from elsewhere, so the dashboard works offline.
 */
final class StaticFiles implements HttpHandler {
    private static final String UPLOT = "/META-INF/resources/webjars/uplot/" + Versions.UPLOT + "/dist/";
    private static final Map<String, String> FILES = Map.of(
            "/", "/dev/faultdisk/server/http/dashboard/index.html",
            "/dashboard.js", "/dev/faultdisk/server/http/dashboard/dashboard.js",
            "/dashboard.css", "/dev/faultdisk/server/http/dashboard/dashboard.css",
            "/uplot.js", UPLOT + "uPlot.iife.min.js",
            "/uplot.css", UPLOT + "uPlot.min.css");

    /** True for the paths of the page itself, which need no secret (its API calls do). */
    static boolean serves(String path) {
        return FILES.containsKey(path);
    }

    @Override
    public void handle(HttpExchange ex) throws IOException {
        try (ex) {
            String path = ex.getRequestURI().getPath();
            String resource = FILES.get(path);
            if (resource == null) {
                Exchanges.error(ex, 404, "No such page: " + path + " (the dashboard is at /, the API under /api/v1/)");
                return;
            }
            if (!ex.getRequestMethod().equals("GET") && !ex.getRequestMethod().equals("HEAD")) {
                ex.getResponseHeaders().set("Allow", "GET, HEAD");
                Exchanges.error(ex, 405, "Method " + ex.getRequestMethod() + " not allowed here; use GET");
                return;
            }
            byte[] bytes;
            try (InputStream in = StaticFiles.class.getResourceAsStream(resource)) {
                if (in == null) {
                    Exchanges.error(ex, 500, "The jar lacks " + resource);
                    return;
                }
                bytes = in.readAllBytes();
            }
            ex.getResponseHeaders().set("Content-Type", type(resource));
            ex.getResponseHeaders().set("Cache-Control", "no-cache");
            ex.getResponseHeaders().set("X-Content-Type-Options", "nosniff");
            // The page may load only its own files: nothing from the network, no framing by others.
            ex.getResponseHeaders()
                    .set(
                            "Content-Security-Policy",
                            "default-src 'self'; style-src 'self' 'unsafe-inline'; frame-ancestors 'none'");
            boolean head = ex.getRequestMethod().equals("HEAD");
            ex.sendResponseHeaders(200, head ? -1 : bytes.length);
            if (!head) {
                try (OutputStream out = ex.getResponseBody()) {
                    out.write(bytes);
                }
            }
        }
    }

    private static String type(String resource) {
        if (resource.endsWith(".html")) {
            return "text/html; charset=utf-8";
        }
        if (resource.endsWith(".js")) {
            return "text/javascript; charset=utf-8";
        }
        return "text/css; charset=utf-8";
    }
}
