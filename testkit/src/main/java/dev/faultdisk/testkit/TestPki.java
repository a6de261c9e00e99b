package dev.faultdisk.testkit;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HexFormat;
import java.util.List;
import java.util.SplittableRandom;

/**
 * A throw-away PKI made with openssl for TLS tests: a CA, a server certificate for localhost,
 * 127.0.0.1 and ::1, and a client certificate, laid out as nbdkit, qemu-nbd ({@code dir=}) and
 * libnbd ({@code tls-certificates=}) expect: {@code ca-cert.pem}, {@code server-cert.pem},
 * {@code server-key.pem}, {@code client-cert.pem}, {@code client-key.pem}.
 */
public final class TestPki {
    private static final Duration TIMEOUT = Duration.ofSeconds(60);

    private final Path dir;

    private TestPki(Path dir) {
        this.dir = dir;
    }

    /** Makes the CA and both certificates in {@code dir} (created if missing). */
    public static TestPki create(Path dir) {
        Tools.require("openssl");
        try {
            Files.createDirectories(dir);
            Files.writeString(dir.resolve("server.ext"), """
                    basicConstraints=CA:FALSE
                    keyUsage=critical,digitalSignature,keyEncipherment
                    extendedKeyUsage=serverAuth
                    subjectAltName=DNS:localhost,IP:127.0.0.1,IP:::1
                    """);
            Files.writeString(dir.resolve("client.ext"), """
                    basicConstraints=CA:FALSE
                    keyUsage=critical,digitalSignature,keyEncipherment
                    extendedKeyUsage=clientAuth
                    """);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        openssl(
                dir,
                "req",
                "-x509",
                "-newkey",
                "ec",
                "-pkeyopt",
                "ec_paramgen_curve:prime256v1",
                "-nodes",
                "-days",
                "30",
                "-keyout",
                "ca-key.pem",
                "-out",
                "ca-cert.pem",
                "-subj",
                "/CN=faultdisk test CA",
                "-addext",
                "basicConstraints=critical,CA:TRUE",
                "-addext",
                "keyUsage=critical,keyCertSign,cRLSign");
        for (String role : List.of("server", "client")) {
            issue(dir, dir, "ec:prime256v1", role);
        }
        return new TestPki(dir);
    }

    private static void openssl(Path dir, String... args) {
        List<String> argv = new java.util.ArrayList<>(List.of("openssl"));
        argv.addAll(List.of(args));
        // openssl resolves relative names against its working directory: run it in dir via sh.
        StringBuilder script = new StringBuilder("cd '" + dir + "' && exec");
        for (String a : argv) {
            script.append(" '").append(a.replace("'", "'\\''")).append('\'');
        }
        Command.run(TIMEOUT, "sh", "-c", script.toString()).assertOk("openssl " + args[0]);
    }

    /**
     * A directory {@code dir} with this authority's certificate and, for {@code role} "server" or
     * "client" (its file names and extensions), a certificate it signed for a new key of {@code
     * spec} ("ec:CURVE", "rsa:BITS" or "ed25519"), made by openssl: what a server (or a client)
     * with another kind of key is given.
     */
    public Path signed(Path dir, String spec, String role) {
        try {
            Files.createDirectories(dir);
            Files.copy(this.dir.resolve("ca-cert.pem"), dir.resolve("ca-cert.pem"));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        issue(this.dir, dir, spec, role);
        return dir;
    }

    /**
     * {@code role}'s key of {@code spec} and its certificate, signed by the authority in {@code ca}
     * with {@code role}'s extensions there, written to {@code out}.
     */
    private static void issue(Path ca, Path out, String spec, String role) {
        List<String> req = new java.util.ArrayList<>(List.of("req"));
        req.addAll(
                spec.startsWith("ec:")
                        ? List.of("-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:" + spec.substring(3))
                        : List.of("-newkey", spec));
        req.addAll(List.of(
                "-nodes",
                "-subj",
                "/O=faultdisk tests/CN=" + role,
                "-keyout",
                out.resolve(role + "-key.pem").toString(),
                "-out",
                out.resolve(role + ".csr").toString()));
        openssl(ca, req.toArray(String[]::new));
        openssl(
                ca,
                "x509",
                "-req",
                "-in",
                out.resolve(role + ".csr").toString(),
                "-CA",
                "ca-cert.pem",
                "-CAkey",
                "ca-key.pem",
                "-CAcreateserial",
                "-days",
                "30",
                "-extfile",
                role + ".ext",
                "-out",
                out.resolve(role + "-cert.pem").toString());
    }

    /** The directory with every file: what a server, or a client with a certificate, is given. */
    public Path dir() {
        return dir;
    }

    /** A directory with the CA certificate alone: a client that trusts the server but has no certificate. */
    public Path caOnly() {
        return copy("ca-only", "ca-cert.pem");
    }

    /** A directory with the CA and the client's certificate and key. */
    public Path clientDir() {
        return copy("client", "ca-cert.pem", "client-cert.pem", "client-key.pem");
    }

    /** A PSK file {@code keys.psk} ({@code USER:HEXKEY}) in a directory of its own, keyed from {@code seed}. */
    public Path pskDir(String user, long seed) {
        byte[] key = new byte[32];
        new SplittableRandom(seed).nextBytes(key);
        Path psk = dir.resolve("psk");
        try {
            Files.createDirectories(psk);
            Files.writeString(
                    psk.resolve("keys.psk"), user + ":" + HexFormat.of().formatHex(key) + "\n");
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return psk;
    }

    private Path copy(String name, String... files) {
        Path to = dir.resolve(name);
        try {
            Files.createDirectories(to);
            for (String f : files) {
                Files.copy(dir.resolve(f), to.resolve(f), java.nio.file.StandardCopyOption.REPLACE_EXISTING);
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return to;
    }
}
