package dev.faultdisk.junit;

import dev.faultdisk.wire.json.Json;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.extension.ExtensionConfigurationException;

/** Reads {@link Faultdisk#triggers()}: JSON inline, or a class-path resource holding it. */
final class TriggerSpecs {
    private TriggerSpecs() {}

    /** The trigger objects, in order, for one trigger-add; {@code testClass} finds the resources. */
    static List<Object> read(String[] specs, Class<?> testClass) {
        List<Object> triggers = new ArrayList<>();
        for (String spec : specs) {
            String trimmed = spec.strip();
            boolean inline = trimmed.startsWith("{") || trimmed.startsWith("[");
            String where = inline ? "@Faultdisk triggers" : "@Faultdisk triggers resource '" + trimmed + "'";
            Object value;
            try {
                value = Json.parse(inline ? trimmed : resource(trimmed, testClass, where));
            } catch (IllegalArgumentException e) {
                throw new ExtensionConfigurationException(where + ": not JSON: " + e.getMessage(), e);
            }
            for (Object o : value instanceof List<?> list ? list : List.of(value)) {
                if (!(o instanceof Map<?, ?>)) {
                    throw new ExtensionConfigurationException(
                            where + ": a trigger is a JSON object (or an array of them), not " + Json.describe(o));
                }
                triggers.add(o);
            }
        }
        return triggers;
    }

    private static String resource(String path, Class<?> testClass, String where) {
        String absolute = path.startsWith("/") ? path.substring(1) : path;
        try (InputStream in = testClass.getClassLoader().getResourceAsStream(absolute)) {
            if (in == null) {
                throw new ExtensionConfigurationException(
                        where + ": no such class-path resource (inline JSON starts with { or [)");
            }
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
