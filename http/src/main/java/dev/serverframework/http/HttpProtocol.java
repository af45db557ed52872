package dev.serverframework.http;

import dev.serverframework.core.BusyAnswer;
import dev.serverframework.core.Connection;
import dev.serverframework.core.Protocol;
import dev.serverframework.http.internal.ContinueExpected;
import dev.serverframework.http.internal.ErrorResponses;
import dev.serverframework.http.internal.KeepAlive;
import dev.serverframework.http.internal.PipelineOrder;
import dev.serverframework.http.internal.RequestDecoder;
import dev.serverframework.http.internal.RequestDispatcher;
import dev.serverframework.http.internal.ResponseWriter;
import dev.serverframework.http.internal.Router;
import dev.serverframework.http.internal.SseRoute;
import dev.serverframework.http.internal.StaticFileHandler;
import dev.serverframework.http.internal.SwitchingRoute;
import dev.serverframework.http.internal.WebSocketRoute;
import dev.serverframework.http.sse.SseHandler;
import dev.serverframework.http.sse.SseOptions;
import dev.serverframework.http.websocket.WebSocketHandler;
import dev.serverframework.http.websocket.WebSocketOptions;
import io.netty.channel.ChannelPipeline;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.HttpMethod;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

import static dev.serverframework.core.SettingChecks.range;

/**
 * HTTP/1.1 as a core {@link Protocol}: a request decoder of its own on the I/O loop, a router, handlers on
 * the connection's worker (or on the I/O loop in {@link Execution#IO_LOOP} mode), and responses encoded
 * straight into the buffers written.
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
 * order, and a {@code 100 Continue} waits for the responses before it. Bad input gets
 * 400/408/413/414/417/431/501/505 and the connection closed. The protocol keeps its
 * per-connection state in a connection attribute of its own key; a handler keeps its own with
 * {@code request.connection().attr(key)}. Immutable and thread-safe once built.
 */
public final class HttpProtocol implements Protocol<FullHttpRequest> {
    private final String service;
    private final Execution execution;
    private final RequestDecoder.Limits limits;
    private final Duration keepAliveTimeout;
    private final ResponseWriter writer;
    private final RequestDispatcher dispatcher;

    private HttpProtocol(Builder b) {
        this.service = b.service;
        this.execution = b.execution;
        this.limits = new RequestDecoder.Limits(b.maxInitialLineLength, b.maxHeaderSize, b.maxBodySize,
                b.headerTimeout.toNanos());
        this.keepAliveTimeout = b.keepAliveTimeout;
        long keepAliveSeconds = b.keepAliveTimeout == null ? 0 : b.keepAliveTimeout.toSeconds();
        this.writer = new ResponseWriter(b.serverHeader, keepAliveSeconds);
        KeepAlive keepAlive = new KeepAlive(b.maxRequestsPerConnection);
        this.dispatcher = new RequestDispatcher(b.router, b.observer, keepAlive, writer);
    }

    /** Starts building an HTTP protocol. Any thread; the builder is then used on that one. */
    public static Builder builder() {
        return new Builder();
    }

    /** The service name given to the builder; default "http". Any thread. */
    @Override
    public String service() {
        return service;
    }

    /** Where handlers run, as given to the builder; default {@link Execution#WORKER}. Any thread. */
    @Override
    public Execution execution() {
        return execution;
    }

    /**
     * The request decoder (limits, header timeout, bodies aggregated, 100-continue); responses are encoded
     * by the protocol itself, straight into the buffers it writes (a streamed body goes through the
     * framework's chunked writer). On the I/O loop.
     */
    @Override
    public void initPipeline(ChannelPipeline p) {
        // The 100 Continue goes to onData as a notice, so that it waits for the responses before it.
        p.addLast("http-decoder", new RequestDecoder(limits, ctx -> ctx.fireChannelRead(new ContinueExpected())));
    }

    /**
     * A client over the server's connection limit gets {@code 503 Service Unavailable} with
     * {@code Retry-After} and {@code Connection: close}, once its request head has arrived. Called by the
     * server when it starts.
     */
    @Override
    public BusyAnswer busyAnswer() {
        return BusyAnswer.afterRequest(ErrorResponses.serviceUnavailable(writer.serverHeader()),
                "\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
    }

    /** Sets up the connection's request ordering and keep-alive timeout. On the connection's executor. */
    @Override
    public void onOpen(Connection connection) {
        PipelineOrder.open(connection);
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
        PipelineOrder order = PipelineOrder.of(connection);
        return order != null && !order.answeredAll();
    }

    /**
     * The client half-closed: every request it sent has been passed to {@link #onData}; the connection
     * closes after the last of their responses (at once when all are out). A connection switched to another
     * protocol is that protocol's to close: it hears of the end of input after its {@code onOpen}. On the
     * connection's executor.
     */
    @Override
    public void onInputClosed(Connection connection) {
        PipelineOrder order = PipelineOrder.of(connection);
        if (order == null) {
            // Switched away: closing here would cut the next protocol's first output (an event stream's
            // end) short.
            return;
        }
        if (order.answeredAll()) {
            connection.close();
        } else {
            order.inputClosed();
        }
    }

    /**
     * Routes one aggregated request (or one the pipeline failed: bad input, over a limit, too slow) and
     * writes its response in order. On the connection's executor.
     */
    @Override
    public void onData(Connection connection, FullHttpRequest request) {
        PipelineOrder order = PipelineOrder.of(connection);
        if (request instanceof ContinueExpected) {
            if (order == null) {
                return;
            }
            // Not a request: the next one's head asks for 100 Continue, due once the earlier ones are answered.
            order.continueExpected(() -> writer.writeContinue(connection));
            return;
        }
        // Behind a response that closes the connection, nothing more is answered; nor after a switch to
        // another protocol, which took the connection's HTTP state off it.
        if (order != null && !order.isClosing()) {
            dispatcher.dispatch(connection, order, request);
        }
    }

    /**
     * Routes and limits of an {@link HttpProtocol}. Not thread-safe: use it on one thread, the one that
     * builds the protocol; a setting out of its range fails at once, naming it.
     */
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
        private final List<SwitchingRoute> switchingRoutes = new ArrayList<>();

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

        /**
         * Adds a route for a method and a path template ({@code {name}} matches one segment, handed to the
         * handler decoded as {@link Request#pathParam}). Literal paths are found first, then templates in
         * the order added.
         *
         * @throws IllegalArgumentException when the path does not start with '/', has a bad parameter, or
         *                                  the route is defined twice
         */
        public Builder route(HttpMethod method, String path, Handler handler) {
            router.add(Objects.requireNonNull(method, "method"), path, Objects.requireNonNull(handler, "handler"));
            return this;
        }

        /** Adds a route answered asynchronously, with the rules of {@link #route}. */
        public Builder routeAsync(HttpMethod method, String path, AsyncHandler handler) {
            router.add(Objects.requireNonNull(method, "method"), path, Objects.requireNonNull(handler, "handler"));
            return this;
        }

        /** Adds a GET route, which also answers HEAD where the path has no HEAD route; see {@link #route}. */
        public Builder get(String path, Handler h) {
            return route(HttpMethod.GET, path, h);
        }

        /** Adds a HEAD route; see {@link #route}. */
        public Builder head(String path, Handler h) {
            return route(HttpMethod.HEAD, path, h);
        }

        /** Adds a POST route; see {@link #route}. */
        public Builder post(String path, Handler h) {
            return route(HttpMethod.POST, path, h);
        }

        /** Adds a PUT route; see {@link #route}. */
        public Builder put(String path, Handler h) {
            return route(HttpMethod.PUT, path, h);
        }

        /** Adds a DELETE route; see {@link #route}. */
        public Builder delete(String path, Handler h) {
            return route(HttpMethod.DELETE, path, h);
        }

        /** Adds a PATCH route; see {@link #route}. */
        public Builder patch(String path, Handler h) {
            return route(HttpMethod.PATCH, path, h);
        }

        /** Adds a OPTIONS route; see {@link #route}. */
        public Builder options(String path, Handler h) {
            return route(HttpMethod.OPTIONS, path, h);
        }

        /** Adds a GET route answered asynchronously; see {@link #routeAsync}. */
        public Builder getAsync(String path, AsyncHandler h) {
            return routeAsync(HttpMethod.GET, path, h);
        }

        /** Adds a POST route answered asynchronously; see {@link #routeAsync}. */
        public Builder postAsync(String path, AsyncHandler h) {
            return routeAsync(HttpMethod.POST, path, h);
        }

        /**
         * Adds a WebSocket endpoint (RFC 6455) with the default {@link WebSocketOptions}; see
         * {@link #websocket(String, WebSocketOptions, WebSocketHandler)}.
         */
        public Builder websocket(String path, WebSocketHandler handler) {
            return websocket(path, WebSocketOptions.defaults(), handler);
        }

        /**
         * Adds a WebSocket endpoint (RFC 6455): a GET handshake on {@code path} (a template, as for
         * {@link #route}) switches the connection to WebSocket, and {@code handler} gets its messages. A
         * request without {@code Upgrade: websocket} gets 426; a bad handshake gets 400, never an upgrade; a
         * {@code Sec-WebSocket-Version} other than 13 gets 426 with {@code Sec-WebSocket-Version: 13}; an
         * origin not allowed, or a handshake the handler does not accept, gets 403. The sockets' callbacks
         * run where this protocol's handlers do ({@link #execution}).
         */
        public Builder websocket(String path, WebSocketOptions options, WebSocketHandler handler) {
            return switching(path, new WebSocketRoute(Objects.requireNonNull(options, "options"),
                    Objects.requireNonNull(handler, "handler")));
        }

        /**
         * Adds a Server-Sent Events endpoint with the default {@link SseOptions}; see
         * {@link #sse(String, SseOptions, SseHandler)}.
         */
        public Builder sse(String path, SseHandler handler) {
            return sse(path, SseOptions.defaults(), handler);
        }

        /**
         * Adds a Server-Sent Events endpoint: a GET on {@code path} (a template, as for {@link #route}) is
         * answered with a {@code text/event-stream} that stays open, and {@code handler} sends events on it.
         * The streams' callbacks run where this protocol's handlers do ({@link #execution}).
         */
        public Builder sse(String path, SseOptions options, SseHandler handler) {
            return switching(path, new SseRoute(Objects.requireNonNull(options, "options"),
                    Objects.requireNonNull(handler, "handler")));
        }

        private Builder switching(String path, SwitchingRoute route) {
            router.add(HttpMethod.GET, path, route);
            switchingRoutes.add(route);
            return this;
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

        /** Builds the protocol; calls the observer's {@link HttpObserver#route} for each route. */
        public HttpProtocol build() {
            for (SwitchingRoute route : switchingRoutes) {
                route.bind(execution);
            }
            return new HttpProtocol(this);
        }
    }

}
