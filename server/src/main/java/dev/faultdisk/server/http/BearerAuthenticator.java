package dev.faultdisk.server.http;

import com.sun.net.httpserver.Authenticator;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpPrincipal;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;

/**
 * The shared secret on the metrics-only listener ({@code serve --metrics}): a scrape must send
 * {@code Authorization: Bearer SECRET} (Prometheus: {@code authorization: {credentials_file: ...}}).
 */
public final class BearerAuthenticator extends Authenticator {
    private final byte[] secret;

    public BearerAuthenticator(String secret) {
        this.secret = secret.getBytes(StandardCharsets.UTF_8);
    }

    @Override
    public Result authenticate(HttpExchange ex) {
        String header = ex.getRequestHeaders().getFirst("Authorization");
        if (header != null
                && header.regionMatches(true, 0, "Bearer ", 0, 7)
                && MessageDigest.isEqual(secret, header.substring(7).trim().getBytes(StandardCharsets.UTF_8))) {
            return new Success(new HttpPrincipal("scraper", "faultdisk"));
        }
        ex.getResponseHeaders().set("WWW-Authenticate", "Bearer realm=\"faultdisk\"");
        return new Failure(401);
    }
}
