package dev.faultdisk.server.http;

import com.sun.net.httpserver.Filter;
import com.sun.net.httpserver.HttpExchange;
import java.io.IOException;
import java.net.InetAddress;
import java.net.URI;
import java.net.URISyntaxException;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.Locale;
import java.util.concurrent.Semaphore;

/**
 * What every request passes before a handler sees it: the budget of requests at once, the
 * browser checks (a page of another origin may not drive the API; on a loopback address the
 * Host must be a loopback name, against DNS rebinding) and the shared secret.
 */
final class Guard extends Filter {
    private final Semaphore budget;
    private final int maxRequests;
    private final byte[] secret;
    private final boolean loopback;

    Guard(HttpOptions options, InetAddress bound) {
        this.maxRequests = options.maxRequests();
        this.budget = new Semaphore(options.maxRequests());
        this.secret = options.secret() == null ? null : options.secret().getBytes(StandardCharsets.UTF_8);
        this.loopback = bound.isLoopbackAddress();
    }

    @Override
    public String description() {
        return "budget, origin and secret checks";
    }

    @Override
    public void doFilter(HttpExchange ex, Chain chain) throws IOException {
        String refused = refusal(ex);
        if (refused != null) {
            Exchanges.error(ex, 403, refused);
            return;
        }
        String path = ex.getRequestURI().getPath();
        if (secret != null && !StaticFiles.serves(path) && !authorized(ex)) {
            ex.getResponseHeaders().set("WWW-Authenticate", "Bearer realm=\"faultdisk\"");
            Exchanges.error(ex, 401, "This server needs its secret: Authorization: Bearer SECRET");
            return;
        }
        if (path.equals(EventStream.PATH)) {
            chain.doFilter(ex); // streams have their own budget: they last
            return;
        }
        if (!budget.tryAcquire()) {
            ex.getResponseHeaders().set("Retry-After", "1");
            Exchanges.error(ex, 503, "Too many requests at once (at most " + maxRequests + "); try again");
            return;
        }
        try {
            chain.doFilter(ex);
        } finally {
            budget.release();
        }
    }

    /** Why a browser's request is refused, or null. */
    private String refusal(HttpExchange ex) {
        String host = ex.getRequestHeaders().getFirst("Host");
        if (loopback && host != null && !isLoopbackName(hostOf(host))) {
            return "Host '" + host + "' is not this loopback server's name";
        }
        String origin = ex.getRequestHeaders().getFirst("Origin");
        if (origin != null && !origin.equals("null") && host != null) {
            try {
                URI o = new URI(origin);
                String authority = o.getRawAuthority();
                if (authority == null || !authority.equalsIgnoreCase(host)) {
                    return "Origin " + origin + " may not use this server";
                }
            } catch (URISyntaxException e) {
                return "Bad Origin header";
            }
        } else if (origin != null && origin.equals("null")) {
            return "Origin null may not use this server";
        }
        return null;
    }

    private static String hostOf(String hostHeader) {
        if (hostHeader.startsWith("[")) {
            int end = hostHeader.indexOf(']');
            return end < 0 ? hostHeader : hostHeader.substring(1, end);
        }
        int colon = hostHeader.lastIndexOf(':');
        return colon < 0 ? hostHeader : hostHeader.substring(0, colon);
    }

    private static boolean isLoopbackName(String host) {
        String h = host.toLowerCase(Locale.ROOT);
        return h.equals("localhost") || h.endsWith(".localhost") || h.startsWith("127.") || h.equals("::1");
    }

    private boolean authorized(HttpExchange ex) {
        String header = ex.getRequestHeaders().getFirst("Authorization");
        String given = null;
        if (header != null && header.regionMatches(true, 0, "Bearer ", 0, 7)) {
            given = header.substring(7).trim();
        } else if (ex.getRequestMethod().equals("GET")) {
            try {
                given = Exchanges.query(ex).get("access_token"); // EventSource cannot set headers
            } catch (IllegalArgumentException e) {
                return false; // two tokens, or a broken one: neither is taken
            }
        }
        return given != null && MessageDigest.isEqual(secret, given.getBytes(StandardCharsets.UTF_8));
    }
}
