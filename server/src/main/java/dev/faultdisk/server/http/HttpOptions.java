package dev.faultdisk.server.http;

import dev.faultdisk.wire.json.JsonLimits;
import dev.faultdisk.wire.net.ControlEndpoint;
import javax.net.ssl.SSLContext;

/**
 * What an HTTP control server allows each client, and how it is secured.
 *
 * @param maxRequests     requests handled at once; one more is answered 503 at once
 * @param maxEventStreams event streams open at once; one more is answered 503
 * @param maxQueuedEvents events an event stream may have waiting for its client; a stream that
 *                        falls further behind is ended (the client reconnects and catches up)
 * @param limits          bounds on one request body (the QMP socket's bounds on one message)
 * @param tls             serve HTTPS with this context, or null for plain HTTP
 * @param verifyPeer      HTTPS clients must present a certificate the context trusts
 * @param secret          a shared secret every API call and scrape must present as {@code
 *                        Authorization: Bearer SECRET} (or, for a browser's event stream, {@code
 *                        ?access_token=SECRET}), or null for none
 */
public record HttpOptions(
        int maxRequests,
        int maxEventStreams,
        int maxQueuedEvents,
        JsonLimits limits,
        SSLContext tls,
        boolean verifyPeer,
        String secret) {
    public static HttpOptions defaults() {
        return new HttpOptions(64, 16, 4096, JsonLimits.DEFAULT, null, false, null);
    }

    /**
     * The QMP socket's security and budgets for HTTP: its TLS credentials (and peer check), its
     * secret (sent as a bearer token here), its session budget as the requests and the event
     * streams at once, its session bytes as the largest request body.
     */
    public static HttpOptions from(ControlEndpoint qmp) {
        JsonLimits d = JsonLimits.DEFAULT;
        return new HttpOptions(
                qmp.maxSessions(),
                qmp.maxSessions(),
                4096,
                new JsonLimits(Math.min(d.maxMessageBytes(), qmp.maxSessionBytes()), d.maxTokens(), d.maxNesting()),
                qmp.tls() == null ? null : qmp.tls().context(),
                qmp.tls() != null && qmp.tls().verifyPeer(),
                qmp.secret());
    }

    public HttpOptions {
        if (maxRequests < 1 || maxEventStreams < 0 || maxQueuedEvents < 1 || limits == null) {
            throw new IllegalArgumentException("bad HTTP server options");
        }
        if (secret != null && secret.isEmpty()) {
            throw new IllegalArgumentException("an empty secret secures nothing");
        }
    }

    public HttpOptions withSecret(String value) {
        return new HttpOptions(maxRequests, maxEventStreams, maxQueuedEvents, limits, tls, verifyPeer, value);
    }

    public HttpOptions withMaxEventStreams(int value) {
        return new HttpOptions(maxRequests, value, maxQueuedEvents, limits, tls, verifyPeer, secret);
    }
}
