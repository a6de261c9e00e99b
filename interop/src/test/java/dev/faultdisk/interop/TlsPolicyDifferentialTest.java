package dev.faultdisk.interop;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.faultdisk.testkit.CommandResult;
import dev.faultdisk.testkit.QemuIo;
import dev.faultdisk.testkit.ServeProcess;
import dev.faultdisk.testkit.TestPki;
import dev.faultdisk.testkit.Tools;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.Security;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The JDK's TLS policy ({@code jdk.tls.disabledAlgorithms}) on Bouncy Castle's handshake, judged
 * by the JDK's own engine: for each policy two {@code faultdisk serve} processes, one on each
 * handshake ({@code -Dfaultdisk.nbd.x509Tls=jdk|bc}), and qemu-io (GnuTLS) with priority strings
 * that offer TLS 1.3, TLS 1.2, SHA-1 signatures alone, SHA-1 and SHA-256, X25519 and P-384
 * alone, P-521 alone, and TLS 1.2 without extensions (no signature algorithms named, so SHA-1,
 * which JDK 25 refuses). Both servers must let in or refuse each client alike, on the same
 * version and suite. JDK 25's own policy refuses SHA-1 handshake signatures; a stricter one is
 * given through {@code -Djava.security.properties}. Pre-shared keys, which the JDK's engine
 * lacks, under the stricter policy: the suite and group it leaves. The key is P-256's; a TLS 1.2
 * client offering ECDSA with SHA-384 alone is one the handshakes differ on by design: Bouncy
 * Castle's signs with any hash, as RFC 5246 allows, the JDK's engine only with the curve's own.
 */
class TlsPolicyDifferentialTest {
    private static final Pattern SESSION = Pattern.compile("(TLSv1\\.[23]) (TLS_\\w+)( (\\w+))?$");
    /** GnuTLS priority strings, by what they offer. */
    private static final Map<String, String> CLIENTS = new LinkedHashMap<>();

    static {
        CLIENTS.put("TLS 1.3", "NORMAL");
        CLIENTS.put("TLS 1.2", "NORMAL:-VERS-TLS1.3");
        CLIENTS.put("TLS 1.2, SHA-1 signatures only", "NORMAL:-VERS-TLS1.3:-SIGN-ALL:+SIGN-ECDSA-SHA1");
        CLIENTS.put(
                "TLS 1.2, SHA-1 and SHA-256 signatures",
                "NORMAL:-VERS-TLS1.3:-SIGN-ALL:+SIGN-ECDSA-SHA1:+SIGN-ECDSA-SHA256");
        CLIENTS.put("X25519 and P-384 only", "NORMAL:-GROUP-ALL:+GROUP-X25519:+GROUP-SECP384R1");
        CLIENTS.put("P-521 only", "NORMAL:-GROUP-ALL:+GROUP-SECP521R1");
        CLIENTS.put("TLS 1.2 without extensions", "NORMAL:-VERS-TLS1.3:%NO_EXTENSIONS");
    }

    /** Added to the JDK's own list: AES-128-GCM's suites and X25519 go. */
    private static final String STRICTER = ", TLS_AES_128_GCM_SHA256, TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256, x25519";

    @TempDir
    static Path dir;

    private static TestPki pki;

    @BeforeAll
    static void pki() {
        Tools.require("openssl", "qemu-io");
        pki = TestPki.create(dir.resolve("pki"));
    }

    /** A java.security override: the JDK's own jdk.tls.disabledAlgorithms and {@code more}. */
    private static Path policy(String name, String more) throws IOException {
        Path file = dir.resolve(name + ".security");
        Files.writeString(
                file, "jdk.tls.disabledAlgorithms=" + Security.getProperty("jdk.tls.disabledAlgorithms") + more + "\n");
        return file;
    }

    /** What each client got from a server on {@code handshake} under {@code policy} (null: the JDK's own). */
    private static Map<String, String> outcomes(String handshake, Path policy) throws Exception {
        return outcomes(handshake, policy, false);
    }

    /**
     * The same; with {@code verifyPeer} the server asks for a client certificate ({@code
     * --tls-verify-peer}) and each client has one.
     */
    private static Map<String, String> outcomes(String handshake, Path policy, boolean verifyPeer) throws Exception {
        List<String> jvm = new ArrayList<>(List.of("-Dfaultdisk.nbd.x509Tls=" + handshake));
        if (policy != null) {
            jvm.add("-Djava.security.properties=" + policy);
        }
        Path log = dir.resolve(handshake + "-" + (policy == null ? "default" : policy.getFileName())
                + (verifyPeer ? "-verify" : "") + ".log");
        List<String> tls =
                new ArrayList<>(List.of("--tls-certificates", pki.dir().toString()));
        if (verifyPeer) {
            tls.add("--tls-verify-peer");
        }
        Path clientDir = verifyPeer ? pki.clientDir() : pki.caOnly();
        Map<String, String> out = new LinkedHashMap<>();
        try (ServeProcess serve = serve(jvm, log, tls.toArray(String[]::new))) {
            int port = port(serve);
            int connection = 0;
            for (Map.Entry<String, String> client : CLIENTS.entrySet()) {
                CommandResult io = qemuIo(
                        "tls-creds-x509,id=tls0,dir=" + clientDir + ",endpoint=client,priority=" + client.getValue(),
                        port);
                out.put(client.getKey(), io.exit() == 0 ? session(log, ++connection) : refused(log, ++connection));
            }
        }
        return out;
    }

    /** {@code faultdisk serve} with an 8 MiB export d, TLS required with {@code tls}, in a JVM with {@code jvm}. */
    private static ServeProcess serve(List<String> jvm, Path log, String... tls) throws IOException {
        List<String> args = new ArrayList<>(
                List.of("--export", "d=memory:8M", "--nbd", "127.0.0.1:0", "--qmp", "none", "--tls", "require"));
        args.addAll(List.of(tls));
        return ServeProcess.startWithJvm(jvm, log, args.toArray(String[]::new));
    }

    private static int port(ServeProcess serve) {
        return Integer.parseInt(serve.uri("d").replaceAll(".*:(\\d+)/d$", "$1"));
    }

    private static CommandResult qemuIo(String creds, int port) {
        return QemuIo.runWithObject(
                creds, "driver=nbd,host=127.0.0.1,port=" + port + ",export=d,tls-creds=tls0", "read 0 4096");
    }

    /** Connection {@code n}'s version and suite (and on Bouncy Castle's handshake, TLS 1.3's group) from the log. */
    private static String session(Path log, int n) {
        String prefix = "NBD connection " + n + " from ";
        String line =
                await().atMost(Duration.ofSeconds(10)).until(() -> lineOf(log, prefix, ": export"), l -> l != null);
        Matcher m = SESSION.matcher(line);
        assertTrue(m.find(), () -> "a session in " + line);
        return m.group(1) + " " + m.group(2) + (m.group(4) != null ? " " + m.group(4) : "");
    }

    /** "refused", once the log says connection {@code n} failed its handshake. */
    private static String refused(Path log, int n) {
        await().atMost(Duration.ofSeconds(10))
                .until(() -> lineOf(log, "NBD connection " + n + " from ", "closed: TLS failed"), l -> l != null);
        return "refused";
    }

    private static String lineOf(Path log, String prefix, String containing) throws IOException {
        for (String line : Files.readAllLines(log)) {
            int at = line.indexOf(prefix);
            if (at >= 0 && line.indexOf(containing, at) > 0) {
                return line.substring(at);
            }
        }
        return null;
    }

    /** Bouncy Castle's sessions as the JDK's engine names them: a group only where it is X25519. */
    private static Map<String, String> asTheJdkNamesThem(Map<String, String> outcomes) {
        Map<String, String> out = new LinkedHashMap<>();
        outcomes.forEach((k, v) -> out.put(k, v.replaceAll("^(TLSv\\S+ \\S+) (?!x25519$)\\S+$", "$1")));
        return out;
    }

    @Test
    void theJdksOwnPolicyRefusesSha1SignaturesOnBothHandshakes() throws Exception {
        Map<String, String> jdk = outcomes("jdk", null);
        Map<String, String> bc = outcomes("bc", null);
        assertEquals(jdk, asTheJdkNamesThem(bc), "the JDK's engine, then Bouncy Castle's handshake");
        assertEquals("refused", bc.get("TLS 1.2, SHA-1 signatures only"));
        assertEquals(
                "TLSv1.2 TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256", bc.get("TLS 1.2, SHA-1 and SHA-256 signatures"));
        assertEquals("TLSv1.3 TLS_AES_128_GCM_SHA256 x25519", bc.get("TLS 1.3"));
        assertEquals("TLSv1.3 TLS_AES_128_GCM_SHA256 secp521r1", bc.get("P-521 only"));
    }

    @Test
    void aStricterPolicyLeavesBothHandshakesTheSameSuitesAndGroups() throws Exception {
        Path stricter = policy("stricter", STRICTER);
        Map<String, String> jdk = outcomes("jdk", stricter);
        Map<String, String> bc = outcomes("bc", stricter);
        assertEquals(jdk, asTheJdkNamesThem(bc), "the JDK's engine, then Bouncy Castle's handshake");
        assertEquals("TLSv1.3 TLS_AES_256_GCM_SHA384 secp256r1", bc.get("TLS 1.3"));
        assertEquals("TLSv1.3 TLS_AES_256_GCM_SHA384 secp384r1", bc.get("X25519 and P-384 only"));
        assertEquals("TLSv1.2 TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384", bc.get("TLS 1.2"));
        assertEquals("refused", bc.get("TLS 1.2, SHA-1 signatures only"));
    }

    /**
     * Clients with certificates, which they sign the handshake with in a scheme the server asked
     * for: not SHA-1 in TLS 1.2 under the JDK's own policy, on either handshake.
     */
    @Test
    void clientCertificatesAreAskedForInTheSchemesThePolicyAllows() throws Exception {
        Map<String, String> jdk = outcomes("jdk", null, true);
        Map<String, String> bc = outcomes("bc", null, true);
        assertEquals(
                jdk,
                asTheJdkNamesThem(bc),
                "the JDK's engine, then Bouncy Castle's handshake, each verifying its peer");
        assertEquals("refused", bc.get("TLS 1.2, SHA-1 signatures only"));
        assertEquals(
                "TLSv1.2 TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256", bc.get("TLS 1.2, SHA-1 and SHA-256 signatures"));
        assertEquals("TLSv1.3 TLS_AES_128_GCM_SHA256 x25519", bc.get("TLS 1.3"));
    }

    /**
     * A policy that disables the server's own key (P-256, under {@code EC keySize < 384}): Bouncy
     * Castle's handshake hands the server to the JDK's engine, which refuses every client as it
     * does when chosen outright.
     */
    @Test
    void aKeyThePolicyDisablesLeavesTheServerToTheJdksEngine() throws Exception {
        Path noP256 = policy("no-p256", ", EC keySize < 384");
        Map<String, String> jdk = outcomes("jdk", noP256);
        Map<String, String> bc = outcomes("bc", noP256);
        assertEquals(jdk, bc, "the JDK's engine, then the default handshake");
        assertTrue(bc.values().stream().allMatch("refused"::equals), () -> "every client refused: " + bc);
        String log = Files.readString(dir.resolve("bc-no-p256.security.log"));
        assertTrue(
                log.contains(
                        "the JDK's engine serves a key it refuses: jdk.tls.disabledAlgorithms disables its 256-bit EC key"),
                () -> "the hand-over logged:\n" + log);
    }

    @Test
    void preSharedKeysFollowTheStricterPolicyToo() throws Exception {
        Path psk = pki.pskDir("erin", 0x9e5c_0009L);
        Path log = dir.resolve("psk.log");
        try (ServeProcess serve = serve(
                List.of("-Djava.security.properties=" + policy("psk", STRICTER)),
                log,
                "--tls-psk",
                psk.resolve("keys.psk").toString())) {
            int port = port(serve);
            qemuIo("tls-creds-psk,id=tls0,dir=" + psk + ",username=erin,endpoint=client", port)
                    .assertOk("qemu-io over TLS with a pre-shared key");
            // Without the policy: TLS_AES_128_GCM_SHA256 on X25519's share (NbdTlsTest); the key is
            // bound to SHA-256, so not AES-256-GCM's suite.
            assertEquals("TLSv1.3 TLS_CHACHA20_POLY1305_SHA256 secp256r1", session(log, 1));
        }
    }
}
