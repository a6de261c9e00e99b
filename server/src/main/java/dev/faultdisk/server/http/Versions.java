package dev.faultdisk.server.http;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.Properties;

/** Versions the build writes into the jar (versions.properties, filtered by Maven). */
final class Versions {
    /** The uPlot WebJar's version: its files live under a path that names it. */
    static final String UPLOT = read("uplot");

    private Versions() {}

    private static String read(String key) {
        try (InputStream in = Versions.class.getResourceAsStream("versions.properties")) {
            Properties p = new Properties();
            if (in != null) {
                p.load(in);
            }
            return p.getProperty(key, "unknown");
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
