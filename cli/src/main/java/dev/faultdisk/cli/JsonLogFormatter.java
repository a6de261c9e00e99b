package dev.faultdisk.cli;

import dev.faultdisk.wire.json.Json;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.logging.Formatter;
import java.util.logging.LogRecord;

/**
 * One JSON object per log record ({@code FAULTDISK_LOG_FORMAT=json}), for log shippers: time
 * (ISO-8601, UTC), level, logger, message, and the exception if there is one.
 */
final class JsonLogFormatter extends Formatter {
    @Override
    public String format(LogRecord r) {
        Map<String, Object> line = new LinkedHashMap<>();
        line.put("time", r.getInstant().toString());
        line.put("level", r.getLevel().getName());
        line.put("logger", r.getLoggerName());
        line.put("message", formatMessage(r));
        if (r.getThrown() != null) {
            StringWriter trace = new StringWriter();
            r.getThrown().printStackTrace(new PrintWriter(trace));
            line.put("exception", trace.toString());
        }
        return Json.write(line) + System.lineSeparator();
    }
}
