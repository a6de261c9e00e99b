package dev.faultdisk.qmp;

import dev.faultdisk.wire.json.Json;
import dev.faultdisk.wire.json.JsonMembers;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** The server's messages, members in the order QEMU prints them. */
final class Messages {
    private Messages() {}

    static Map<String, Object> greeting(QmpVersion version) {
        Map<String, Object> qmp = new LinkedHashMap<>();
        qmp.put("version", version.toJson());
        qmp.put("capabilities", List.of());
        return Map.of("QMP", qmp);
    }

    static Map<String, Object> success(Object result, boolean hasId, Object id) {
        Map<String, Object> response = new LinkedHashMap<>();
        response.put("return", result == null ? Map.of() : result);
        if (hasId) {
            response.put("id", id);
        }
        return response;
    }

    static Map<String, Object> error(ErrorClass errorClass, String desc, boolean hasId, Object id) {
        Map<String, Object> error = new LinkedHashMap<>();
        error.put("class", errorClass.wireName());
        error.put("desc", desc);
        Map<String, Object> response = new LinkedHashMap<>();
        if (hasId) {
            response.put("id", id);
        }
        response.put("error", error);
        return response;
    }

    static JsonMembers event(String name, Object data, Instant at) {
        long seconds = at.getEpochSecond();
        long micros = at.getNano() / 1000;
        return out -> {
            out.member("timestamp", (JsonMembers) time -> {
                time.member("seconds", seconds);
                time.member("microseconds", micros);
            });
            out.member("event", name);
            if (data != null) {
                out.member("data", data);
            }
        };
    }

    /**
     * One line on the wire: the JSON text (ASCII, as {@link Json#write} makes it) and CRLF; a
     * character beyond ASCII becomes {@code ?}, as {@link StandardCharsets#US_ASCII} makes it.
     */
    static byte[] line(CharSequence json) {
        // Two bulk copies beat a loop over the characters: an event line is built per delayed read.
        byte[] text = json.toString().getBytes(StandardCharsets.US_ASCII);
        byte[] line = Arrays.copyOf(text, text.length + 2);
        line[text.length] = '\r';
        line[text.length + 1] = '\n';
        return line;
    }
}
