package dev.serverframework.http;

/**
 * Answers one request. Called on the connection's executor (a worker unless the protocol runs on the
 * I/O loop); it may block briefly on a worker, never on the I/O loop. A handler that throws gets the
 * client a 500 with a generic body, and the exception is logged once.
 */
@FunctionalInterface
public interface Handler {
    /** Returns the response to {@code request}. */
    Response handle(Request request) throws Exception;
}
