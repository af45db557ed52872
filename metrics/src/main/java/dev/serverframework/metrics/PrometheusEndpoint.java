package dev.serverframework.metrics;

import dev.serverframework.core.Worker;
import dev.serverframework.http.Request;
import dev.serverframework.http.Response;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.ByteBufOutputStream;
import io.netty.handler.codec.http.HttpHeaderNames;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;

/**
 * The Prometheus scrape: the registry's meters in the text format 0.0.4, or OpenMetrics 1.0 when the
 * {@code Accept} header asks for {@code application/openmetrics-text} (as Prometheus does). The scrape
 * always runs on a worker: on the connection's worker when the protocol runs handlers there, otherwise
 * (I/O-loop mode) on a worker of the server, never on an I/O event loop. Thread-safe.
 */
public final class PrometheusEndpoint {
    /** Content type of the Prometheus text format. */
    public static final String TEXT_0_0_4 = "text/plain; version=0.0.4; charset=utf-8";
    /** Content type of OpenMetrics text. */
    public static final String OPENMETRICS_1_0_0 = "application/openmetrics-text; version=1.0.0; charset=utf-8";

    private final PrometheusMeterRegistry registry;

    /** The scrape endpoint of {@code registry}. */
    public PrometheusEndpoint(PrometheusMeterRegistry registry) {
        this.registry = Objects.requireNonNull(registry, "registry");
    }

    /** The async handler for {@code GET /metrics}. On the connection's executor. */
    public CompletionStage<Response> handle(Request request) {
        String accept = request.header(HttpHeaderNames.ACCEPT);
        if (request.connection().executor() instanceof Worker) {
            return CompletableFuture.completedFuture(scrape(accept));
        }
        return CompletableFuture.supplyAsync(() -> scrape(accept), request.connection().server().workerGroup().next());
    }

    /** Scrapes in the format {@code accept} asks for. Any thread; it takes a while with many meters. */
    public Response scrape(String accept) {
        boolean openMetrics = accept != null && accept.contains("application/openmetrics-text");
        String contentType = openMetrics ? OPENMETRICS_1_0_0 : TEXT_0_0_4;
        ByteBuf buf = ByteBufAllocator.DEFAULT.buffer(16 * 1024);
        try (ByteBufOutputStream out = new ByteBufOutputStream(buf)) {
            registry.scrape(out, openMetrics ? "application/openmetrics-text; version=1.0.0" : "text/plain; version=0.0.4");
        } catch (IOException | RuntimeException e) {
            buf.release();
            if (e instanceof IOException io) {
                throw new UncheckedIOException(io);
            }
            throw (RuntimeException) e;
        }
        return Response.buffer(buf, contentType);
    }
}
