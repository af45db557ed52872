package dev.serverframework.http.internal;

import dev.serverframework.core.Connection;
import dev.serverframework.core.Protocol;
import dev.serverframework.http.Request;
import dev.serverframework.http.Response;
import dev.serverframework.http.websocket.WebSocketHandler;
import dev.serverframework.http.websocket.WebSocketOptions;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.websocketx.extensions.WebSocketExtensionData;
import io.netty.handler.codec.http.websocketx.extensions.WebSocketExtensionUtil;
import io.netty.handler.codec.http.websocketx.extensions.WebSocketServerExtension;
import io.netty.handler.codec.http.websocketx.extensions.compression.PerMessageDeflateServerExtensionHandshaker;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Base64;
import java.util.List;
import java.util.Map;

/**
 * A WebSocket endpoint's opening handshake (RFC 6455 4.2): checks the client's request, agrees a
 * subprotocol and {@code permessage-deflate}, prepares the connection's {@link WebSocketSession} and answers
 * {@code 101 Switching Protocols}; a request that is no valid handshake is refused with 426, 400 or 403 and
 * the connection stays HTTP. One per route; on the connection's executor.
 */
public final class WebSocketRoute implements SwitchingRoute {
    private static final String ACCEPT_GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";
    private static final String VERSION = "13";

    private final WebSocketOptions options;
    private final WebSocketHandler handler;
    private final PerMessageDeflateServerExtensionHandshaker deflate;
    private WebSocketProtocol protocol;

    /** The route of these options and handler; usable once {@link #bind bound}. */
    public WebSocketRoute(WebSocketOptions options, WebSocketHandler handler) {
        this.options = options;
        this.handler = handler;
        // Netty's handshaker agrees the parameters and makes the deflater; its inflater (whose allowance is
        // the last argument) is not used: WebSocketProtocol puts a WebSocketInflater, with an exact limit, in
        // its place.
        this.deflate = options.compression()
                ? new PerMessageDeflateServerExtensionHandshaker(6, false, 15, false, false, options.maxMessageSize())
                : null;
    }

    @Override
    public void bind(Protocol.Execution execution) {
        this.protocol = new WebSocketProtocol(options, handler, execution);
    }

    @Override
    public Outcome accept(Request request) {
        FullHttpRequest m = request.message();
        HttpHeaders h = m.headers();
        if (!h.containsValue(HttpHeaderNames.UPGRADE, "websocket", true)) {
            return Outcome.refuse(upgradeRequired("this is a WebSocket endpoint"));
        }
        if (!m.method().equals(HttpMethod.GET)) {
            // The router hands a GET route HEAD too; a HEAD that asks to upgrade must not be switched.
            return bad("a WebSocket handshake is a GET");
        }
        if (!m.protocolVersion().equals(HttpVersion.HTTP_1_1)) {
            return bad("a WebSocket handshake needs HTTP/1.1");
        }
        if (!h.containsValue(HttpHeaderNames.CONNECTION, "upgrade", true)) {
            return bad("a WebSocket handshake needs Connection: Upgrade");
        }
        List<String> versions = h.getAll(HttpHeaderNames.SEC_WEBSOCKET_VERSION);
        if (versions.size() != 1 || !VERSION.equals(versions.get(0).trim())) {
            return Outcome.refuse(upgradeRequired("only WebSocket version 13 is spoken here")
                    .header(HttpHeaderNames.SEC_WEBSOCKET_VERSION, VERSION));
        }
        List<String> keys = h.getAll(HttpHeaderNames.SEC_WEBSOCKET_KEY);
        if (keys.size() != 1 || !validKey(keys.get(0).trim())) {
            return bad("Sec-WebSocket-Key must be one base64 value of 16 bytes");
        }
        if (m.content().isReadable()) {
            return bad("a WebSocket handshake has no body");
        }
        if (!options.allowedOrigins().isEmpty()) {
            String origin = h.get(HttpHeaderNames.ORIGIN);
            if (origin == null || !options.allowedOrigins().contains(origin)) {
                return Outcome.refuse(refusal(HttpResponseStatus.FORBIDDEN, "origin not allowed"));
            }
        }
        if (!handler.accept(request)) {
            return Outcome.refuse(refusal(HttpResponseStatus.FORBIDDEN, "not accepted"));
        }
        Response res = Response.status(HttpResponseStatus.SWITCHING_PROTOCOLS)
                .header(HttpHeaderNames.UPGRADE, "websocket")
                .header(HttpHeaderNames.CONNECTION, "Upgrade")
                .header(HttpHeaderNames.SEC_WEBSOCKET_ACCEPT, acceptValue(keys.get(0).trim()));
        String subprotocol = subprotocol(h.getAll(HttpHeaderNames.SEC_WEBSOCKET_PROTOCOL));
        if (subprotocol != null) {
            res.header(HttpHeaderNames.SEC_WEBSOCKET_PROTOCOL, subprotocol);
        }
        WebSocketServerExtension extension = deflate == null ? null
                : extension(h.getAll(HttpHeaderNames.SEC_WEBSOCKET_EXTENSIONS));
        if (extension != null) {
            res.header(HttpHeaderNames.SEC_WEBSOCKET_EXTENSIONS, headerValue(extension.newReponseData()));
        }
        Connection c = request.connection();
        Map<String, String> params = request.pathParams().isEmpty() ? Map.of() : Map.copyOf(request.pathParams());
        // The route's template when the client asked for exactly it: a string every socket shares.
        String uri = m.uri().equals(request.routeTemplate()) ? request.routeTemplate() : m.uri();
        WebSocketSession.attach(c, new WebSocketSession(c, protocol, uri, params, subprotocol, extension));
        return Outcome.switchTo(res, protocol);
    }

    @Override
    public void abandoned(Connection connection) {
        WebSocketSession.detach(connection);
    }

    private static Outcome bad(String why) {
        return Outcome.refuse(refusal(HttpResponseStatus.BAD_REQUEST, why));
    }

    /**
     * A 426: it must name the protocol to upgrade to (RFC 9110 15.5.22), and a sender of {@code Upgrade}
     * must list "upgrade" in {@code Connection} (RFC 9110 7.8), or a proxy may pass the field on as if it were
     * meant for the next hop.
     */
    private static Response upgradeRequired(String why) {
        return refusal(HttpResponseStatus.UPGRADE_REQUIRED, why)
                .header(HttpHeaderNames.UPGRADE, "websocket")
                .header(HttpHeaderNames.CONNECTION, "Upgrade");
    }

    private static Response refusal(HttpResponseStatus status, String why) {
        return Response.text(status.code() + " " + status.reasonPhrase() + ": " + why + "\n").withStatus(status.code());
    }

    /** The first of the route's subprotocols that the client offers, or null. */
    private String subprotocol(List<String> offered) {
        for (String mine : options.subprotocols()) {
            for (String field : offered) {
                for (String name : field.split(",")) {
                    if (name.trim().equals(mine)) {
                        return mine;
                    }
                }
            }
        }
        return null;
    }

    /**
     * The first {@code permessage-deflate} offer this server can take, or null. An offer it cannot parse
     * (bad syntax, a window size that is no number) is declined, as RFC 7692 5 lets a server decline.
     */
    private WebSocketServerExtension extension(List<String> fields) {
        for (String field : fields) {
            List<WebSocketExtensionData> offers;
            try {
                offers = WebSocketExtensionUtil.extractExtensions(field);
            } catch (RuntimeException e) {
                continue;
            }
            for (WebSocketExtensionData offer : offers) {
                try {
                    WebSocketServerExtension agreed = deflate.handshakeExtension(offer);
                    if (agreed != null) {
                        return agreed;
                    }
                } catch (RuntimeException e) {
                    // A parameter value Netty cannot parse: this offer is declined.
                }
            }
        }
        return null;
    }

    private static String headerValue(WebSocketExtensionData data) {
        StringBuilder sb = new StringBuilder(data.name());
        data.parameters().forEach((k, v) -> {
            sb.append("; ").append(k);
            if (v != null) {
                sb.append('=').append(v);
            }
        });
        return sb.toString();
    }

    private static boolean validKey(String key) {
        try {
            return Base64.getDecoder().decode(key).length == 16;
        } catch (IllegalArgumentException e) {
            return false;
        }
    }

    /** {@code Sec-WebSocket-Accept}: base64 of the SHA-1 of the key and the RFC's GUID. */
    static String acceptValue(String key) {
        try {
            MessageDigest sha1 = MessageDigest.getInstance("SHA-1");
            byte[] digest = sha1.digest((key + ACCEPT_GUID).getBytes(StandardCharsets.US_ASCII));
            return Base64.getEncoder().encodeToString(digest);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("every Java platform has SHA-1", e);
        }
    }
}
