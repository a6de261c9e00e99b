package dev.faultdisk.server.http;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpHandler;
import dev.faultdisk.qmp.CommandRegistry;
import dev.faultdisk.qmp.ErrorClass;
import dev.faultdisk.wire.json.JsonLimits;
import dev.faultdisk.wire.json.JsonStreamParser;
import java.io.IOException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * {@code /api/v1/COMMAND}: every command of the registry. POST takes the arguments object as the
 * body (empty means none) and answers with the reply a QMP session would get: {@code {"return":
 * ...}} with 200, or {@code {"error": {"class", "desc"}}} with 404 (CommandNotFound,
 * DeviceNotFound), 400 (GenericError) or 500 (an internal error). Commands named {@code query-*}
 * change nothing and may also be called with GET, their string arguments in the query string.
 */
final class ApiHandler implements HttpHandler {
    static final String PREFIX = "/api/v1/";

    private final CommandRegistry commands;
    private final JsonLimits limits;
    private final OpenApi openApi;

    ApiHandler(CommandRegistry commands, JsonLimits limits) {
        this.commands = commands;
        this.limits = limits;
        this.openApi = new OpenApi(commands);
    }

    @Override
    public void handle(HttpExchange ex) throws IOException {
        try (ex) {
            String path = ex.getRequestURI().getPath();
            String method = ex.getRequestMethod();
            if (path.equals(OpenApi.PATH)) {
                if (!method.equals("GET") && !method.equals("HEAD")) {
                    notAllowed(ex, "GET, HEAD");
                    return;
                }
                Exchanges.json(ex, 200, openApi.document());
                return;
            }
            String name = path.startsWith(PREFIX) ? path.substring(PREFIX.length()) : "";
            switch (method) {
                case "POST" -> post(ex, name);
                case "GET", "HEAD" -> {
                    if (!name.startsWith("query-")) {
                        notAllowed(ex, "POST");
                        return;
                    }
                    Map<String, Object> args;
                    try {
                        args = new LinkedHashMap<>(Exchanges.query(ex));
                    } catch (IllegalArgumentException e) {
                        Exchanges.error(ex, 400, e.getMessage());
                        return;
                    }
                    args.remove("access_token");
                    reply(ex, commands.respond(name, args));
                }
                default -> notAllowed(ex, name.startsWith("query-") ? "GET, HEAD, POST" : "POST");
            }
        }
    }

    private void post(HttpExchange ex, String name) throws IOException {
        byte[] body = Exchanges.body(ex, limits.maxMessageBytes());
        if (body == null) {
            return;
        }
        Map<String, Object> args = new LinkedHashMap<>();
        if (!isBlank(body)) {
            String type = ex.getRequestHeaders().getFirst("Content-Type");
            // Only JSON: a form or text/plain post needs no preflight, so another site's page could send one.
            if (type == null || !type.toLowerCase(Locale.ROOT).startsWith(Exchanges.JSON)) {
                Exchanges.error(ex, 415, "The arguments must be sent as Content-Type: application/json");
                return;
            }
            Object parsed;
            try {
                parsed = parse(body);
            } catch (IllegalArgumentException e) {
                Exchanges.error(ex, 400, e.getMessage());
                return;
            }
            if (!(parsed instanceof Map<?, ?> map)) {
                Exchanges.error(ex, 400, "QMP input member 'arguments' must be an object");
                return;
            }
            map.forEach((k, v) -> args.put((String) k, v));
        }
        reply(ex, commands.respond(name, args));
    }

    /** One JSON value, with the QMP socket's limits and messages. */
    private Object parse(byte[] body) {
        JsonStreamParser parser = new JsonStreamParser(limits);
        List<JsonStreamParser.Result> results = new ArrayList<>(parser.feed(body));
        results.addAll(parser.finish());
        for (JsonStreamParser.Result r : results) {
            if (r instanceof JsonStreamParser.Failure failure) {
                throw new IllegalArgumentException(failure.message());
            }
        }
        if (results.size() != 1) {
            throw new IllegalArgumentException("Expected one JSON object as the body, found " + results.size());
        }
        return ((JsonStreamParser.Value) results.getFirst()).value();
    }

    private static boolean isBlank(byte[] body) {
        for (byte b : body) {
            if (b != ' ' && b != '\t' && b != '\r' && b != '\n') {
                return false;
            }
        }
        return true;
    }

    private static void reply(HttpExchange ex, CommandRegistry.Reply reply) throws IOException {
        Exchanges.json(ex, status(reply), reply.json());
    }

    /** The HTTP status of a reply: what its error class means for a resource. */
    static int status(CommandRegistry.Reply reply) {
        if (reply.error() == null) {
            return 200;
        }
        if (reply.error() == ErrorClass.COMMAND_NOT_FOUND || reply.error() == ErrorClass.DEVICE_NOT_FOUND) {
            return 404;
        }
        return reply.json().contains("\"desc\": \"Internal error") ? 500 : 400;
    }

    private static void notAllowed(HttpExchange ex, String allow) throws IOException {
        ex.getResponseHeaders().set("Allow", allow);
        Exchanges.error(ex, 405, "Method " + ex.getRequestMethod() + " not allowed here; use " + allow);
    }
}
