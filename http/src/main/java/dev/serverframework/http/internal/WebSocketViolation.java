package dev.serverframework.http.internal;

/**
 * A WebSocket protocol error found in the peer's input, with the close code and reason the server answers
 * it with. Passed to the protocol as a message, after the frames that came before it, by the
 * {@link WebSocketFrameGuard}; made on the I/O loop, handled on the connection's executor.
 *
 * @param code   the close code: 1002, 1007 or 1009
 * @param reason why, at most 123 bytes of UTF-8
 */
record WebSocketViolation(int code, String reason) {
}
