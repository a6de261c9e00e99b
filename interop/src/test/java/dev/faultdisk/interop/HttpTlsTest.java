package dev.faultdisk.interop;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.faultdisk.server.FaultdiskServer;
import dev.faultdisk.testkit.TestPki;
import dev.faultdisk.wire.net.ControlEndpoint;
import dev.faultdisk.wire.net.TlsCredentials;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The HTTP server and the metrics listener take the QMP socket's TLS and secret. */
class HttpTlsTest {
    private static final Duration TIMEOUT = Duration.ofSeconds(20);

    @Test
    void httpsWithTheQmpCertificateAndSecret(@TempDir Path dir) throws Exception {
        TestPki pki = TestPki.create(dir.resolve("pki"));
        ControlEndpoint endpoint = ControlEndpoint.defaults()
                .withTls(TlsCredentials.server(pki.dir(), false))
                .withSecret("open sesame");
        try (FaultdiskServer server = FaultdiskServer.builder()
                .export("s0=memory:1M")
                .nbd(new InetSocketAddress("127.0.0.1", 0))
                .qmpEndpoint(endpoint)
                .http(new InetSocketAddress("127.0.0.1", 0))
                .metrics(new InetSocketAddress("127.0.0.1", 0))
                .start()) {
            String api = server.http().url();
            assertTrue(api.startsWith("https://127.0.0.1:"), api);
            assertTrue(server.metricsUrl().startsWith("https://"), server.metricsUrl());
            HttpClient trusting = HttpClient.newBuilder()
                    .sslContext(TlsCredentials.client(pki.caOnly()).context())
                    .connectTimeout(TIMEOUT)
                    .build();
            HttpResponse<String> ok = trusting.send(
                    HttpRequest.newBuilder(URI.create(api + "api/v1/query-block"))
                            .header("Authorization", "Bearer open sesame")
                            .build(),
                    HttpResponse.BodyHandlers.ofString());
            assertEquals(200, ok.statusCode(), ok.body());
            assertTrue(ok.body().contains("\"device\": \"s0\""), ok.body());
            HttpResponse<String> noSecret = trusting.send(
                    HttpRequest.newBuilder(URI.create(api + "api/v1/query-block"))
                            .build(),
                    HttpResponse.BodyHandlers.ofString());
            assertEquals(401, noSecret.statusCode());
            HttpResponse<String> scrape = trusting.send(
                    HttpRequest.newBuilder(URI.create(server.metricsUrl()))
                            .header("Authorization", "Bearer open sesame")
                            .build(),
                    HttpResponse.BodyHandlers.ofString());
            assertEquals(200, scrape.statusCode());
            assertTrue(scrape.body().contains("faultdisk_nbd_requests_total"), scrape.body());
            HttpResponse<String> anonymousScrape = trusting.send(
                    HttpRequest.newBuilder(URI.create(server.metricsUrl())).build(),
                    HttpResponse.BodyHandlers.ofString());
            assertEquals(401, anonymousScrape.statusCode());
            // Plain HTTP to the TLS port, and a client that does not trust the CA, get nothing.
            HttpClient plain = HttpClient.newBuilder().connectTimeout(TIMEOUT).build();
            assertThrows(
                    IOException.class,
                    () -> plain.send(
                            HttpRequest.newBuilder(
                                            URI.create(api.replace("https://", "http://") + "api/v1/query-block"))
                                    .timeout(Duration.ofSeconds(5))
                                    .build(),
                            HttpResponse.BodyHandlers.ofString()));
            assertThrows(
                    IOException.class,
                    () -> plain.send(
                            HttpRequest.newBuilder(URI.create(api + "api/v1/query-block"))
                                    .build(),
                            HttpResponse.BodyHandlers.ofString()));
        }
    }
}
