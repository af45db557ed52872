package dev.serverframework.http;

import java.util.concurrent.CompletionStage;

/**
 * Answers one request later. Called like {@link Handler}; the returned stage may complete on any thread.
 * Responses still go out in request order on a pipelined connection. A stage that fails gets the client
 * a 500 with a generic body.
 */
@FunctionalInterface
public interface AsyncHandler {
    /** Returns a stage that completes with the response to {@code request}. */
    CompletionStage<Response> handle(Request request) throws Exception;
}
