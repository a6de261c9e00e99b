package dev.faultdisk.cli;

import dev.faultdisk.wire.json.Json;
import java.io.BufferedWriter;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.function.Consumer;

/**
 * What a scenario run did and when: one JSON object per line, written and flushed as it happens
 * (a run cut short still leaves its journal). {@code faultdisk run --replay} reads it back.
 */
final class Journal implements AutoCloseable {
    static final String FORMAT = "faultdisk-scenario-journal";

    private final BufferedWriter out;
    private Consumer<Map<String, Object>> echo = entry -> {};

    private Journal(BufferedWriter out) {
        this.out = out;
    }

    static Journal open(Path file) throws IOException {
        return new Journal(Files.newBufferedWriter(file, StandardCharsets.UTF_8));
    }

    /** A journal that writes nothing (--no-journal). */
    static Journal none() {
        return new Journal(null);
    }

    /** Also hands every entry to {@code echo} (--json prints them). */
    Journal echoTo(Consumer<Map<String, Object>> echo) {
        this.echo = echo;
        return this;
    }

    void write(Map<String, Object> entry) {
        echo.accept(entry);
        if (out == null) {
            return;
        }
        try {
            out.write(Json.write(entry));
            out.newLine();
            out.flush();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write the journal: " + e.getMessage(), e);
        }
    }

    @Override
    public void close() throws IOException {
        if (out != null) {
            out.close();
        }
    }
}
