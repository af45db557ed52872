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
 * A yes is final: it is kept on the {@link Exchange}, and from then on the connection admits no request
 * (RFC 9112 9.6), even while that response is still being prepared. Immutable; asked on the connection's
 * executor.
 */
public final class KeepAlive {
    private final int maxRequestsPerConnection;

    /** With this limit of requests per connection (0: none). */
    public KeepAlive(int maxRequestsPerConnection) {
        this.maxRequestsPerConnection = maxRequestsPerConnection;
    }

    /**
     * Decides, with what is known by now, whether the exchange's response closes the connection, and
     * records a yes on the exchange and the connection's order. Asked when the request is admitted (no
     * response yet), when its response is ready, and just before that response is written.
     */
    public void decide(Exchange ex) {
        if (!ex.closes() && closes(ex)) {
            ex.closeAfter();
        }
        if (ex.closes()) {
            ex.order().closing();
        }
    }

    private boolean closes(Exchange ex) {
        if (ex.isBadInput()) {
            return true;
        }
        PipelineOrder order = ex.order();
        Response res = ex.response();
        if (res == null) {
            // On admission, and only then: the request count moves on with the requests pipelined after it.
            return !HttpUtil.isKeepAlive(ex.message())
                    || maxRequestsPerConnection > 0 && order.requests() >= maxRequestsPerConnection;
        }
        // All answered is true only for the response being written, when it is the last one owed.
        return ex.http10() && res.body() instanceof Response.Stream
                || order.answeredAll() && (order.isInputClosed() || !ex.connection().server().isRunning());
    }
}
