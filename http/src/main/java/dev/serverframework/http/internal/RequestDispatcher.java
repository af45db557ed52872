package dev.serverframework.http.internal;

import dev.serverframework.core.Connection;
import dev.serverframework.http.AsyncHandler;
import dev.serverframework.http.Handler;
import dev.serverframework.http.HttpObserver;
import dev.serverframework.http.Request;
import dev.serverframework.http.Response;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.TooLongHttpContentException;
import io.netty.handler.codec.http.TooLongHttpHeaderException;
import io.netty.handler.codec.http.TooLongHttpLineException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.List;
import java.util.Objects;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;

/**
 * The flow of one request through the protocol: it makes the request's {@link Exchange}, routes it, runs
 * its handler (or answers an error itself), waits for an asynchronous handler's stage, and hands the
 * response to the connection's {@link PipelineOrder}, which lets it out in request order to the
 * {@link ResponseWriter}; {@link KeepAlive} decides on the way whether it is the connection's last. One per
 * protocol, immutable once built; runs on the connection's executor.
 */
public final class RequestDispatcher {
    private static final Logger log = LoggerFactory.getLogger(RequestDispatcher.class);

    private final Router<Object> router;
    private final KeepAlive keepAlive;
    private final ResponseWriter writer;
    /** The observer's route for each {@link Router.Match#routeIndex()}; null without an observer. */
    private final HttpObserver.Route[] observedRoutes;
    /** The observer's route for requests that matched no route; null without an observer. */
    private final HttpObserver.Route unmatchedRoute;

    /**
     * A dispatcher over these routes (their targets are {@link Handler}s and {@link AsyncHandler}s). Called
     * on the thread that builds the protocol, which is where the observer's {@link HttpObserver#route} runs.
     *
     * @param observer told about every request, or null
     */
    public RequestDispatcher(Router<Object> router, HttpObserver observer, KeepAlive keepAlive,
                             ResponseWriter writer) {
        this.router = router;
        this.keepAlive = keepAlive;
        this.writer = writer;
        if (observer != null) {
            // Resolved once here, so that a request costs the observer no look-up.
            List<String> templates = router.templates();
            this.observedRoutes = new HttpObserver.Route[templates.size()];
            for (int i = 0; i < observedRoutes.length; i++) {
                observedRoutes[i] = Objects.requireNonNull(observer.route(templates.get(i)), "observer route");
            }
            this.unmatchedRoute = Objects.requireNonNull(observer.route(null), "observer route");
        } else {
            this.observedRoutes = null;
            this.unmatchedRoute = null;
        }
    }

    /**
     * Admits one decoded request on a connection that still takes requests, and sees it answered: now for a
     * handler, later for an asynchronous one. On the connection's executor.
     */
    public void dispatch(Connection c, PipelineOrder order, FullHttpRequest req) {
        if (!admit(c, order, req) && req instanceof UpgradeRequest upgrade) {
            // The connection stays HTTP: what the client sent behind the upgrade request is decoded.
            upgrade.declined();
        }
    }

    /** Routes and answers a request; true when its route accepted to switch the connection to another protocol. */
    private boolean admit(Connection c, PipelineOrder order, FullHttpRequest req) {
        // Timed from when the I/O loop handed the request over: its wait for the worker counts.
        Exchange ex = new Exchange(c, order, req, unmatchedRoute == null ? 0 : c.receivedNanos());
        // Now, not when the response is ready: if the request rules out another, no later request on this
        // connection may be processed (RFC 9112 9.6), even while an async handler still works on this one.
        keepAlive.onAdmission(ex);
        if (ex.isBadInput()) {
            Throwable cause = req.decoderResult().cause();
            c.protocolError(String.valueOf(cause));
            ex.observe(unmatchedRoute);
            respond(ex, ErrorResponses.response(statusFor(cause)));
            return false;
        }
        if (req.uri().equals("*") && req.method().equals(HttpMethod.OPTIONS)) {
            // The asterisk-form asks about the server as a whole (RFC 9112 3.2.4): a valid request.
            ex.observe(unmatchedRoute);
            respond(ex, Response.status(HttpResponseStatus.NO_CONTENT));
            return false;
        }
        String rawPath = Router.rawPath(req.uri());
        if (rawPath == null) {
            c.protocolError("bad request target " + req.uri());
            ex.badInput();
            ex.observe(unmatchedRoute);
            respond(ex, ErrorResponses.response(HttpResponseStatus.BAD_REQUEST));
            return false;
        }
        Router.Match<Object> match = router.route(req.method(), rawPath);
        if (observedRoutes != null) {
            ex.observe(match.routeIndex() < 0 ? unmatchedRoute : observedRoutes[match.routeIndex()]);
        }
        if (!match.found()) {
            respond(ex, unrouted(req.method(), match));
            return false;
        }
        Request request = new RoutedRequest(req, c, match.params(), match.template());
        if (match.target() instanceof Handler h) {
            Response res;
            try {
                res = Objects.requireNonNull(h.handle(request), "handler returned no response");
            } catch (Throwable t) {
                res = failed(request, t);
            }
            respond(ex, res);
        } else if (match.target() instanceof SwitchingRoute route) {
            return offerSwitch(ex, route, request);
        } else {
            handleAsync(ex, (AsyncHandler) match.target(), request);
        }
        return false;
    }

    /** Asks a switching route about the request and answers it; true when the route accepted. */
    private boolean offerSwitch(Exchange ex, SwitchingRoute route, Request request) {
        if (ex.order().isSwitching()) {
            // A request pipelined behind an accepted switch will never be answered in HTTP; and its route must
            // not prepare the connection over what the first one prepared.
            respond(ex, ErrorResponses.response(HttpResponseStatus.BAD_REQUEST));
            return false;
        }
        SwitchingRoute.Outcome outcome;
        try {
            outcome = Objects.requireNonNull(route.accept(request), "switching route gave no outcome");
        } catch (Throwable t) {
            outcome = SwitchingRoute.Outcome.refuse(failed(request, t));
        }
        if (outcome.next() != null) {
            ex.switchAfter(route, outcome.next());
            ex.order().switching();
        }
        respond(ex, outcome.response());
        return outcome.next() != null;
    }

    private void handleAsync(Exchange ex, AsyncHandler h, Request request) {
        CompletionStage<Response> stage;
        try {
            stage = Objects.requireNonNull(h.handle(request), "handler returned no CompletionStage");
        } catch (Throwable t) {
            respond(ex, failed(request, t));
            return;
        }
        // The body must outlive onData: the framework releases the message when onData returns.
        ex.message().retain();
        stage.whenComplete((res, err) -> ex.connection().executor().execute(() -> {
            try {
                respond(ex, err != null ? failed(request, err)
                        : res != null ? res : failed(request, new NullPointerException("handler completed with null")));
            } finally {
                ex.message().release();
            }
        }));
    }

    private Response failed(Request request, Throwable t) {
        Throwable cause = t instanceof CompletionException && t.getCause() != null ? t.getCause() : t;
        log.warn("Handler for {} {} (connection {}) failed; answering 500", request.method(), request.routeTemplate(),
                request.connection().id(), cause);
        return ErrorResponses.response(HttpResponseStatus.INTERNAL_SERVER_ERROR);
    }

    /** The exchange's response is ready: it goes out when every earlier one has. */
    private void respond(Exchange ex, Response res) {
        ex.respond(res);
        keepAlive.onResponse(ex);
        ex.order().complete(ex, this::write);
    }

    /** Writes a response whose turn it is; the observer hears of it after the write, with the handler's status. */
    private void write(Exchange ex) {
        keepAlive.beforeWrite(ex);
        try {
            if (ex.nextProtocol() != null) {
                switchProtocol(ex);
                return;
            }
            writer.write(ex);
        } catch (RuntimeException e) {
            log.warn("Connection {}: writing a response failed; closing", ex.connection().id(), e);
            ex.connection().abort();
        } finally {
            ex.completed();
        }
    }

    /**
     * Writes an accepted switch's head and switches the connection, so that the next protocol's codecs are
     * in place before the client, which waits for this head, sends anything more. A server that began
     * stopping, or a client that half-closed, meanwhile gets a 503 and the connection closes instead.
     */
    private void switchProtocol(Exchange ex) {
        Connection c = ex.connection();
        PipelineOrder order = ex.order();
        if (!c.server().isRunning() || order.isInputClosed()) {
            ex.switchingRoute().abandoned(c);
            ex.switchAfter(null, null);
            Response refusal = ErrorResponses.response(HttpResponseStatus.SERVICE_UNAVAILABLE);
            ex.respond(refusal);
            if (!ex.closes()) {
                keepAlive.refuseSwitch(ex);
            }
            writer.write(ex);
            if (ex.message() instanceof UpgradeRequest upgrade) {
                upgrade.declined();
            }
            return;
        }
        order.closing();
        writer.writeHead(ex);
        PipelineOrder.remove(c);
        c.switchProtocol(ex.nextProtocol());
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

    /** The status for a request the decoder refused. */
    private static HttpResponseStatus statusFor(Throwable cause) {
        if (cause instanceof TooLongHttpLineException) {
            return HttpResponseStatus.REQUEST_URI_TOO_LONG;
        }
        if (cause instanceof TooLongHttpHeaderException) {
            return HttpResponseStatus.REQUEST_HEADER_FIELDS_TOO_LARGE;
        }
        if (cause instanceof RequestDecoder.UnsupportedTransferCodingException) {
            return HttpResponseStatus.NOT_IMPLEMENTED;
        }
        if (cause instanceof TooLongHttpContentException) {
            return HttpResponseStatus.REQUEST_ENTITY_TOO_LARGE;
        }
        if (cause instanceof RequestDecoder.HeaderTimeoutException) {
            return HttpResponseStatus.REQUEST_TIMEOUT;
        }
        if (cause instanceof RequestDecoder.UnsupportedVersionException) {
            return HttpResponseStatus.HTTP_VERSION_NOT_SUPPORTED;
        }
        if (cause instanceof RequestDecoder.ExpectationFailedException) {
            return HttpResponseStatus.EXPECTATION_FAILED;
        }
        return HttpResponseStatus.BAD_REQUEST;
    }
}
