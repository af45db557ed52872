package dev.serverframework.http.internal;

import dev.serverframework.http.Response;
import io.netty.handler.codec.http.HttpUtil;

/**
 * The keep-alive decision, in one place: whether the response to a request is the connection's last,
 * sent with {@code Connection: close} and followed by the close. It closes when
 * <ul>
 * <li>the request was bad input (undecodable, or an unusable target): the rest of the stream cannot be
 *     trusted;</li>
 * <li>the request does not ask to keep the connection (RFC 9112 9.3: HTTP/1.1 with {@code Connection:
 *     close}, HTTP/1.0 without {@code Connection: keep-alive});</li>
 * <li>the request is the connection's last allowed ({@code maxRequestsPerConnection});</li>
 * <li>the response is a stream to an HTTP/1.0 client, which only the close can delimit;</li>
 * <li>it is the last answer owed to a client that half-closed, or on a server that is stopping.</li>
 * </ul>
 * Each rule is asked at the moment it can first be known: {@link #onAdmission}, {@link #onResponse},
 * {@link #beforeWrite}. A yes is final: it is kept on the {@link Exchange}, and from then on the connection
 * admits no request (RFC 9112 9.6), even while that response is still being prepared. Immutable; asked on
 * the connection's executor.
 */
public final class KeepAlive {
    private final int maxRequestsPerConnection;

    /** With this limit of requests per connection (0: none). */
    public KeepAlive(int maxRequestsPerConnection) {
        this.maxRequestsPerConnection = maxRequestsPerConnection;
    }

    /**
     * On admission, before any handler runs: bad input, a request that does not ask to keep the connection,
     * and the connection's last allowed request close it.
     */
    public void onAdmission(Exchange ex) {
        PipelineOrder order = ex.order();
        decide(ex, ex.isBadInput() || !HttpUtil.isKeepAlive(ex.message())
                || maxRequestsPerConnection > 0 && order.requests() >= maxRequestsPerConnection);
    }

    /**
     * When the response is ready: bad input found after admission (a target that names no path) closes, and
     * a stream to an HTTP/1.0 client can only be delimited by the close.
     */
    public void onResponse(Exchange ex) {
        decide(ex, ex.isBadInput() || ex.http10() && ex.response().body() instanceof Response.Stream);
    }

    /**
     * Just before the response is written, in its turn: the last answer owed to a client that half-closed,
     * or on a server that is stopping, is the last one.
     */
    public void beforeWrite(Exchange ex) {
        PipelineOrder order = ex.order();
        decide(ex, order.answeredAll() && (order.isInputClosed() || !ex.connection().server().isRunning()));
    }

    /** An accepted protocol switch that is refused at its turn (the server is stopping): the refusal closes. */
    public void refuseSwitch(Exchange ex) {
        decide(ex, true);
    }

    /** Records a yes on the exchange and the connection's order; a yes made before stays. */
    private static void decide(Exchange ex, boolean closes) {
        if (closes && !ex.closes()) {
            ex.closeAfter();
        }
        if (ex.closes()) {
            ex.order().closing();
        }
    }
}
