package dev.faultdisk.server.http;

import dev.faultdisk.qmp.Argument;
import dev.faultdisk.qmp.CommandRegistry;
import dev.faultdisk.qmp.QmpCommand;
import dev.faultdisk.wire.json.Json;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The OpenAPI 3.1 document of the HTTP API ({@code GET /api/v1/openapi.json}), generated from the
 * command registry as the QMP reference is: one path per command, its arguments as the request
 * body's schema, plus the event stream and the metrics.
 */
final class OpenApi {
    static final String PATH = ApiHandler.PREFIX + "openapi.json";

    private final CommandRegistry commands;

    OpenApi(CommandRegistry commands) {
        this.commands = commands;
    }

    /** The document as JSON text (built per call: commands may be registered late). */
    String document() {
        Map<String, Object> doc = new LinkedHashMap<>();
        doc.put("openapi", "3.1.0");
        doc.put(
                "info",
                Map.of(
                        "title", "faultdisk control API",
                        "version", version(commands),
                        "description", "Every QMP command of the server over HTTP (docs/HTTP.md)."));
        Map<String, Object> paths = new LinkedHashMap<>();
        for (QmpCommand c : commands.commands()) {
            if (c.name().equals("qmp_capabilities")) {
                continue; // about a QMP session; HTTP has none
            }
            Map<String, Object> item = new LinkedHashMap<>();
            item.put("post", operation(c, true));
            if (c.name().startsWith("query-")) {
                item.put("get", operation(c, false));
            }
            paths.put(ApiHandler.PREFIX + c.name(), item);
        }
        paths.put(
                EventStream.PATH,
                Map.of(
                        "get",
                        Map.of(
                                "operationId", "events",
                                "summary", "The QMP events as Server-Sent Events (event: NAME, data: the QMP event)",
                                "responses",
                                        Map.of(
                                                "200",
                                                Map.of(
                                                        "description",
                                                        "an endless event stream",
                                                        "content",
                                                        Map.of(
                                                                "text/event-stream",
                                                                Map.of("schema", Map.of("type", "string"))))))));
        paths.put(
                "/metrics",
                Map.of(
                        "get",
                        Map.of(
                                "operationId", "metrics",
                                "summary", "Prometheus metrics (docs/METRICS.md)",
                                "responses",
                                        Map.of(
                                                "200",
                                                Map.of(
                                                        "description",
                                                        "Prometheus text format",
                                                        "content",
                                                        Map.of(
                                                                "text/plain",
                                                                Map.of("schema", Map.of("type", "string"))))))));
        doc.put("paths", paths);
        Map<String, Object> error = new LinkedHashMap<>();
        error.put("type", "object");
        error.put("required", List.of("error"));
        error.put(
                "properties",
                Map.of(
                        "error",
                        Map.of(
                                "type",
                                "object",
                                "required",
                                List.of("class", "desc"),
                                "properties",
                                Map.of(
                                        "class",
                                                Map.of(
                                                        "type",
                                                        "string",
                                                        "enum",
                                                        List.of(
                                                                "GenericError",
                                                                "CommandNotFound",
                                                                "DeviceNotFound",
                                                                "DeviceNotActive")),
                                        "desc", Map.of("type", "string")))));
        doc.put("components", Map.of("schemas", Map.of("Error", error)));
        return Json.write(doc);
    }

    private static Map<String, Object> operation(QmpCommand c, boolean post) {
        Map<String, Object> op = new LinkedHashMap<>();
        op.put("operationId", (post ? "" : "get-") + c.name());
        op.put("summary", firstSentence(c.doc()));
        op.put("description", c.doc());
        if (post) {
            Map<String, Object> properties = new LinkedHashMap<>();
            List<String> required = new ArrayList<>();
            for (Argument a : c.arguments()) {
                Map<String, Object> schema = schema(a);
                schema.put("description", a.doc());
                properties.put(a.name(), schema);
                if (!a.optional()) {
                    required.add(a.name());
                }
            }
            Map<String, Object> body = new LinkedHashMap<>();
            body.put("type", "object");
            body.put("properties", properties);
            if (!required.isEmpty()) {
                body.put("required", required);
            }
            body.put("additionalProperties", false);
            op.put(
                    "requestBody",
                    Map.of("required", !required.isEmpty(), "content", Map.of(Exchanges.JSON, Map.of("schema", body))));
        } else {
            List<Object> parameters = new ArrayList<>();
            for (Argument a : c.arguments()) {
                parameters.add(Map.of(
                        "name", a.name(),
                        "in", "query",
                        "required", !a.optional(),
                        "description", a.doc(),
                        "schema", Map.of("type", "string")));
            }
            op.put("parameters", parameters);
        }
        Map<String, Object> ok = new LinkedHashMap<>();
        ok.put("description", "returns " + (c.returns().isEmpty() ? "{}" : c.returns()));
        ok.put(
                "content",
                Map.of(
                        Exchanges.JSON,
                        Map.of(
                                "schema",
                                Map.of(
                                        "type",
                                        "object",
                                        "required",
                                        List.of("return"),
                                        "properties",
                                        Map.of("return", Map.of())))));
        Map<String, Object> failed = Map.of(
                "description",
                "the command failed: the QMP error",
                "content",
                Map.of(Exchanges.JSON, Map.of("schema", Map.of("$ref", "#/components/schemas/Error"))));
        Map<String, Object> responses = new LinkedHashMap<>();
        responses.put("200", ok);
        responses.put("400", failed);
        responses.put("404", failed);
        op.put("responses", responses);
        return op;
    }

    private static Map<String, Object> schema(Argument a) {
        Map<String, Object> s = new LinkedHashMap<>();
        switch (a.type()) {
            case STRING -> s.put("type", "string");
            case INT -> s.put("type", "integer");
            case BOOL -> s.put("type", List.of("boolean", "integer")); // QEMU also takes 1 and 0
            case NUMBER -> s.put("type", "number");
            case ENUM -> {
                s.put("type", "string");
                s.put("enum", a.values());
            }
            case OBJECT -> s.put("type", "object");
            case LIST -> s.put("type", "array");
            case ANY -> {}
        }
        return s;
    }

    private static String version(CommandRegistry commands) {
        var v = commands.version();
        return v.major() + "." + v.minor() + "." + v.micro();
    }

    private static String firstSentence(String doc) {
        int end = doc.indexOf(". ");
        return end < 0 ? doc : doc.substring(0, end + 1);
    }
}
