package dev.serverframework.http;

import dev.serverframework.core.BusyAnswer;
import dev.serverframework.core.Connection;
import dev.serverframework.core.Protocol;
import dev.serverframework.http.internal.ErrorResponses;
import dev.serverframework.http.internal.HeaderTimeoutHandler;
import dev.serverframework.http.internal.LimitsAggregator;
import dev.serverframework.http.internal.PipelineOrder;
import dev.serverframework.http.internal.ResponseWriter;
import dev.serverframework.http.internal.RoutedRequest;
import dev.serverframework.http.internal.StaticFileHandler;
import dev.serverframework.http.internal.Router;
import dev.serverframework.http.internal.StrictRequestDecoder;
import io.netty.channel.ChannelPipeline;
import io.netty.handler.codec.DecoderResult;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.HttpDecoderConfig;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpResponseEncoder;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.TooLongHttpContentException;
import io.netty.handler.codec.http.TooLongHttpHeaderException;
import io.netty.handler.codec.http.TooLongHttpLineException;
import dev.serverframework.http.internal.ChunkedWriterOnDemand;
import io.netty.util.AttributeKey;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;

import java.util.Objects;
import java.util.concurrent.CompletionStage;

import static dev.serverframework.core.SettingChecks.range;

/**
 * HTTP/1.1 as a core {@link Protocol}: Netty's decoder and encoder on the I/O loop, a router, and
 * handlers on the connection's worker (or on the I/O loop in {@link Execution#IO_LOOP} mode).
 *
 * <pre>{@code
 * HttpProtocol http = HttpProtocol.builder()
 *     .get("/", req -> Response.text("Hello World!"))
 *     .get("/users/{id}", req -> Response.json("{\"id\":\"" + req.pathParam("id") + "\"}"))
 *     .staticFiles("/static", Path.of("public"))
 *     .build();
 * }</pre>
 *
 * <p>Keep-alive follows RFC 9112: HTTP/1.1 persists unless {@code Connection: close}; HTTP/1.0 only with
 * {@code Connection: keep-alive}, which the response then repeats. Pipelined requests are answered in
 * order. Bad input gets 400/408/413/414/431/501 and the connection closed. The protocol owns the
 * connection's attribute of its own key. Immutable and thread-safe once built.
 */
public final class HttpProtocol implements Protocol<FullHttpRequest> {
    /** The connection's request ordering, this protocol's per-connection state. */
    static final AttributeKey<PipelineOrder> ORDER = AttributeKey.valueOf(HttpProtocol.class, "order");

    private static final Logger log = LoggerFactory.getLogger(HttpProtocol.class);

    private final String service;
    private final Execution execution;
    private final Router<Object> router;
    private final int maxInitialLineLength;
    private final int maxHeaderSize;
    private final int maxBodySize;
    private final long headerTimeoutNanos;
    private final int maxRequestsPerConnection;
    private final Duration keepAliveTimeout;
    private final ResponseWriter writer;
    /** The observer's route for each {@link Router.Match#routeIndex()}; null without an observer. */
    private final HttpObserver.Route[] observedRoutes;
    /** The observer's route for requests that matched no route; null without an observer. */
    private final HttpObserver.Route unmatchedRoute;

    private HttpProtocol(Builder b) {
        this.service = b.service;
        this.execution = b.execution;
        this.router = b.router;
        this.maxInitialLineLength = b.maxInitialLineLength;
        this.maxHeaderSize = b.maxHeaderSize;
        this.maxBodySize = b.maxBodySize;
        this.headerTimeoutNanos = b.headerTimeout.toNanos();
        this.maxRequestsPerConnection = b.maxRequestsPerConnection;
        this.keepAliveTimeout = b.keepAliveTimeout;
        this.writer = new ResponseWriter(b.serverHeader, b.keepAliveTimeout == null ? 0 : b.keepAliveTimeout.toSeconds());
        if (b.observer != null) {
            // Resolved once here, so that a request costs the observer no look-up.
            java.util.List<String> templates = router.templates();
            this.observedRoutes = new HttpObserver.Route[templates.size()];
            for (int i = 0; i < observedRoutes.length; i++) {
                observedRoutes[i] = Objects.requireNonNull(b.observer.route(templates.get(i)), "observer route");
            }
            this.unmatchedRoute = Objects.requireNonNull(b.observer.route(null), "observer route");
        } else {
            this.observedRoutes = null;
            this.unmatchedRoute = null;
        }
    }

    /** Starts building an HTTP protocol. */
    public static Builder builder() {
        return new Builder();
    }

    @Override
    public String service() {
        return service;
    }

    @Override
    public Execution execution() {
        return execution;
    }

    /** Decoder, encoder, header timeout, body aggregator and chunked writer. On the I/O loop. */
    @Override
    public void initPipeline(ChannelPipeline p) {
        StrictRequestDecoder decoder = new StrictRequestDecoder(new HttpDecoderConfig()
                .setMaxInitialLineLength(maxInitialLineLength)
                .setMaxHeaderSize(maxHeaderSize)
                .setMaxChunkSize(16 * 1024));
        p.addLast("http-decoder", decoder);
        p.addLast("http-encoder", new HttpResponseEncoder());
        p.addLast("http-header-timeout", new HeaderTimeoutHandler(decoder, headerTimeoutNanos));
        p.addLast("http-aggregator", new LimitsAggregator(maxBodySize, writer.serverHeader()));
        p.addLast("http-chunked", new ChunkedWriterOnDemand());
    }

    /**
     * A client over the server's connection limit gets {@code 503 Service Unavailable} with
     * {@code Retry-After} and {@code Connection: close}, once its request head has arrived.
     */
    @Override
    public BusyAnswer busyAnswer() {
        return BusyAnswer.afterRequest(ErrorResponses.serviceUnavailable(writer.serverHeader()),
                "\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
    }

    /** Sets up the connection's request ordering and keep-alive timeout. On the connection's executor. */
    @Override
    public void onOpen(Connection connection) {
        connection.attr(ORDER).set(new PipelineOrder());
        if (keepAliveTimeout != null) {
            connection.idleTimeout(keepAliveTimeout);
        }
    }

    /**
     * Whether a request on this connection still waits for its response (a slow or asynchronous handler):
     * such a connection is not idle, and a stop waits for the answer. On the connection's executor.
     */
    @Override
    public boolean isAnswering(Connection connection) {
        PipelineOrder order = connection.attr(ORDER).get();
        return order != null && !order.answeredAll();
    }

    /**
     * The client half-closed: every request it sent has been passed to {@link #onData}; the connection
     * closes after the last of their responses (at once when all are out). On the connection's executor.
     */
    @Override
    public void onInputClosed(Connection connection) {
        PipelineOrder order = connection.attr(ORDER).get();
        if (order == null || order.answeredAll()) {
            connection.close();
        } else {
            order.inputClosed();
        }
    }

    /** Routes one aggregated request and writes its response in order. On the connection's executor. */
    @Override
    public void onData(Connection c, FullHttpRequest req) {
        PipelineOrder order = c.attr(ORDER).get();
        if (order.isClosing()) {
            return;
        }
        long seq = order.admit();
        long start = unmatchedRoute == null ? 0 : System.nanoTime();
        HttpMethod method = req.method();
        DecoderResult result = req.decoderResult();
        if (result.isFailure()) {
            c.protocolError(String.valueOf(result.cause()));
            finish(c, order, seq, ErrorResponses.response(statusFor(result.cause())), false, false, true,
                    started(unmatchedRoute), method, start);
            return;
        }
        boolean http10 = req.protocolVersion().equals(HttpVersion.HTTP_1_0);
        boolean head = req.method().equals(HttpMethod.HEAD);
        boolean close = !HttpUtil.isKeepAlive(req)
                || maxRequestsPerConnection > 0 && order.requests() >= maxRequestsPerConnection;
        if (close) {
            // Now, not when the response is ready: no later request on this connection may be processed
            // (RFC 9112 9.6), even while an async handler still works on this one.
            order.closing();
        }
        if (req.uri().equals("*") && req.method().equals(HttpMethod.OPTIONS)) {
            // The asterisk-form asks about the server as a whole (RFC 9112 3.2.4): a valid request.
            finish(c, order, seq, Response.status(HttpResponseStatus.NO_CONTENT), http10, head, close,
                    started(unmatchedRoute), method, start);
            return;
        }
        String rawPath = Router.rawPath(req.uri());
        if (rawPath == null) {
            c.protocolError("bad request target " + req.uri());
            finish(c, order, seq, ErrorResponses.response(HttpResponseStatus.BAD_REQUEST), http10, head, true,
                    started(unmatchedRoute), method, start);
            return;
        }
        Router.Match<Object> match = router.route(req.method(), rawPath);
        HttpObserver.Route observed = observedRoutes == null ? null
                : started(match.routeIndex() < 0 ? unmatchedRoute : observedRoutes[match.routeIndex()]);
        if (!match.found()) {
            finish(c, order, seq, unrouted(req.method(), match), http10, head, close, observed, method, start);
            return;
        }
        Request request = new RoutedRequest(req, c, match.params(), match.template());
        if (match.target() instanceof Handler h) {
            Response res;
            try {
                res = Objects.requireNonNull(h.handle(request), "handler returned no response");
            } catch (Throwable t) {
                res = failed(request, t);
            }
            finish(c, order, seq, res, http10, head, close, observed, method, start);
        } else {
            handleAsync(c, order, seq, (AsyncHandler) match.target(), request, http10, head, close, observed, start);
        }
    }

    private static HttpObserver.Route started(HttpObserver.Route route) {
        if (route != null) {
            route.started();
        }
        return route;
    }

    private void handleAsync(Connection c, PipelineOrder order, long seq, AsyncHandler h, Request request,
                             boolean http10, boolean head, boolean close, HttpObserver.Route observed, long start) {
        HttpMethod method = request.method();
        CompletionStage<Response> stage;
        try {
            stage = Objects.requireNonNull(h.handle(request), "handler returned no CompletionStage");
        } catch (Throwable t) {
            finish(c, order, seq, failed(request, t), http10, head, close, observed, method, start);
            return;
        }
        // The body must outlive onData: the framework releases the message when onData returns.
        request.message().retain();
        stage.whenComplete((res, err) -> c.executor().execute(() -> {
            try {
                Response r = err != null ? failed(request, err)
                        : res != null ? res : failed(request, new NullPointerException("handler completed with null"));
                finish(c, order, seq, r, http10, head, close, observed, method, start);
            } finally {
                request.message().release();
            }
        }));
    }

    private Response failed(Request request, Throwable t) {
        Throwable cause = t instanceof java.util.concurrent.CompletionException && t.getCause() != null ? t.getCause() : t;
        log.warn("Handler for {} {} (connection {}) failed; answering 500", request.method(), request.routeTemplate(),
                request.connection().id(), cause);
        return ErrorResponses.response(HttpResponseStatus.INTERNAL_SERVER_ERROR);
    }

    private void finish(Connection c, PipelineOrder order, long seq, Response res, boolean http10, boolean head,
                        boolean keepAliveRefused, HttpObserver.Route observed, HttpMethod method, long start) {
        // A stream to an HTTP/1.0 client is delimited by the close, so nothing may follow it either.
        boolean close = keepAliveRefused || http10 && res.body() instanceof Response.Stream;
        if (close) {
            order.closing();
        }
        order.complete(seq, new PipelineOrder.Ready(res, http10, head, close, observed, method, start), ready -> {
            // The last answer owed on a connection whose client half-closed, or on any connection once the
            // server is stopping, is its last one: Connection: close tells the client to go.
            boolean last = ready.close()
                    || order.answeredAll() && (order.isInputClosed() || !c.server().isRunning());
            if (last) {
                order.closing();
            }
            // The observer hears of it after the write, in response order, with the handler's status.
            try {
                writer.write(c, ready.response(), ready.http10(), ready.head(), last);
            } catch (RuntimeException e) {
                log.warn("Connection {}: writing a response failed; closing", c.id(), e);
                c.abort();
            } finally {
                HttpObserver.Route route = ready.route();
                if (route != null) {
                    route.completed(ready.method(), ready.response().status().code(),
                            System.nanoTime() - ready.startNanos());
                }
            }
        });
    }

    private static Response unrouted(HttpMethod method, Router.Match<Object> match) {
        if (match.methodNotAllowed()) {
            String allow = String.join(", ", match.allowed());
            if (method.equals(HttpMethod.OPTIONS)) {
                return Response.status(HttpResponseStatus.NO_CONTENT).header(HttpHeaderNames.ALLOW, allow);
            }
            return ErrorResponses.response(HttpResponseStatus.METHOD_NOT_ALLOWED).header(HttpHeaderNames.ALLOW, allow);
        }
        return ErrorResponses.response(HttpResponseStatus.NOT_FOUND);
    }

    /** The status for a request Netty could not decode. */
    static HttpResponseStatus statusFor(Throwable cause) {
        if (cause instanceof TooLongHttpLineException) {
            return HttpResponseStatus.REQUEST_URI_TOO_LONG;
        }
        if (cause instanceof TooLongHttpHeaderException) {
            return HttpResponseStatus.REQUEST_HEADER_FIELDS_TOO_LARGE;
        }
        if (cause instanceof StrictRequestDecoder.UnsupportedTransferCodingException) {
            return HttpResponseStatus.NOT_IMPLEMENTED;
        }
        if (cause instanceof TooLongHttpContentException) {
            return HttpResponseStatus.REQUEST_ENTITY_TOO_LARGE;
        }
        if (cause instanceof HeaderTimeoutHandler.HeaderTimeoutException) {
            return HttpResponseStatus.REQUEST_TIMEOUT;
        }
        return HttpResponseStatus.BAD_REQUEST;
    }

    /** Routes and limits of an {@link HttpProtocol}. Not thread-safe; build once. */
    public static final class Builder {
        private final Router<Object> router = new Router<>();
        private String service = "http";
        private Execution execution = Execution.WORKER;
        private int maxInitialLineLength = 8192;
        private int maxHeaderSize = 8192;
        private int maxBodySize = 1 << 20;
        private Duration headerTimeout = Duration.ofSeconds(10);
        private int maxRequestsPerConnection;
        private Duration keepAliveTimeout;
        private String serverHeader = "server-framework";
        private HttpObserver observer;

        private Builder() {
        }

        /**
         * Sets the observer told about every request (e.g. the metrics module's {@code HttpMetrics});
         * {@code null} (the default) for none, which costs the request path nothing. Its
         * {@link HttpObserver#route} is called by {@link #build()}, once per route template.
         */
        public Builder observer(HttpObserver observer) {
            this.observer = observer;
            return this;
        }

        /** Adds a route for a method and a path template ({@code {name}} matches one segment). */
        public Builder route(HttpMethod method, String path, Handler handler) {
            router.add(Objects.requireNonNull(method, "method"), path, Objects.requireNonNull(handler, "handler"));
            return this;
        }

        /** Adds an asynchronous route. */
        public Builder routeAsync(HttpMethod method, String path, AsyncHandler handler) {
            router.add(Objects.requireNonNull(method, "method"), path, Objects.requireNonNull(handler, "handler"));
            return this;
        }

        public Builder get(String path, Handler h) {
            return route(HttpMethod.GET, path, h);
        }

        public Builder head(String path, Handler h) {
            return route(HttpMethod.HEAD, path, h);
        }

        public Builder post(String path, Handler h) {
            return route(HttpMethod.POST, path, h);
        }

        public Builder put(String path, Handler h) {
            return route(HttpMethod.PUT, path, h);
        }

        public Builder delete(String path, Handler h) {
            return route(HttpMethod.DELETE, path, h);
        }

        public Builder patch(String path, Handler h) {
            return route(HttpMethod.PATCH, path, h);
        }

        public Builder options(String path, Handler h) {
            return route(HttpMethod.OPTIONS, path, h);
        }

        /** GET route answered asynchronously. */
        public Builder getAsync(String path, AsyncHandler h) {
            return routeAsync(HttpMethod.GET, path, h);
        }

        /** POST route answered asynchronously. */
        public Builder postAsync(String path, AsyncHandler h) {
            return routeAsync(HttpMethod.POST, path, h);
        }

        /**
         * Serves the files of {@code directory} under {@code prefix} (GET and HEAD), with 304, 206 and
         * 416, a directory's index.html, and nothing outside the directory.
         *
         * @throws IllegalArgumentException when the directory does not exist
         */
        public Builder staticFiles(String prefix, Path directory) {
            if (prefix == null || !prefix.startsWith("/")) {
                throw new IllegalArgumentException("staticFiles prefix must start with '/', got " + prefix);
            }
            router.addPrefix(prefix, new StaticFileHandler(prefix, directory));
            return this;
        }

        /** The service name; default "http". */
        public Builder service(String name) {
            this.service = Objects.requireNonNull(name, "service");
            return this;
        }

        /** Where handlers run; default {@link Execution#WORKER}. */
        public Builder execution(Execution execution) {
            this.execution = Objects.requireNonNull(execution, "execution");
            return this;
        }

        /** Longest request line, 64 to 1 MiB bytes (longer: 414); default 8 KiB. */
        public Builder maxInitialLineLength(int bytes) {
            this.maxInitialLineLength = range("maxInitialLineLength", bytes, 64, 1 << 20);
            return this;
        }

        /** Largest header block, 256 to 1 MiB bytes (larger: 431); default 8 KiB. */
        public Builder maxHeaderSize(int bytes) {
            this.maxHeaderSize = range("maxHeaderSize", bytes, 256, 1 << 20);
            return this;
        }

        /** Largest request body, 0 to 1 GiB bytes (larger: 413); default 1 MiB. */
        public Builder maxBodySize(int bytes) {
            this.maxBodySize = range("maxBodySize", bytes, 0, 1 << 30);
            return this;
        }

        /** Time a client has to send a request's head once it starts, 100 ms to 10 min; default 10 s. */
        public Builder headerTimeout(Duration timeout) {
            this.headerTimeout = range("headerTimeout", timeout, Duration.ofMillis(100), Duration.ofMinutes(10));
            return this;
        }

        /** Requests per connection before the server closes it, 0 (no limit) to 10,000,000; default 0. */
        public Builder maxRequestsPerConnection(int max) {
            this.maxRequestsPerConnection = range("maxRequestsPerConnection", max, 0, 10_000_000);
            return this;
        }

        /**
         * Idle time after which a keep-alive connection is closed, set as the connection's idle timeout and
         * advertised to HTTP/1.0 clients as {@code Keep-Alive: timeout=N}; default: the server's idle timeout.
         */
        public Builder keepAliveTimeout(Duration timeout) {
            this.keepAliveTimeout = range("keepAliveTimeout", timeout, Duration.ZERO, Duration.ofHours(1));
            return this;
        }

        /** The {@code Server} header value, or {@code null} for none; default "server-framework". */
        public Builder serverHeader(String value) {
            this.serverHeader = value;
            return this;
        }

        /** Builds the protocol. */
        public HttpProtocol build() {
            return new HttpProtocol(this);
        }
    }

}
