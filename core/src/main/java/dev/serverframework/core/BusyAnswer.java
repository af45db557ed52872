package dev.serverframework.core;

import java.util.Objects;

/**
 * What a client refused over the connection limit is told before the server closes its socket: bytes
 * in the protocol's own language ({@link Protocol#busyAnswer()}).
 *
 * <p>Request/response protocols wait for the client's request before answering
 * ({@link #afterRequest}): a client that reuses pooled connections would otherwise read an answer it did
 * not ask for. Protocols where the server speaks first answer at once ({@link #immediate}). Either way
 * the socket is then closed with a lingering close (output shut down, input read and discarded for a
 * short time), so a client still sending meets a clean end of stream, never a reset. Immutable.
 */
public final class BusyAnswer {
    private final byte[] answer;
    private final byte[] requestEnd;

    private BusyAnswer(byte[] answer, byte[] requestEnd) {
        this.answer = answer.clone();
        this.requestEnd = requestEnd == null ? null : requestEnd.clone();
    }

    /** Sends {@code answer} as soon as the refused connection is accepted. */
    public static BusyAnswer immediate(byte[] answer) {
        return new BusyAnswer(Objects.requireNonNull(answer, "answer"), null);
    }

    /**
     * Sends {@code answer} once the client's input contains {@code requestEnd} (HTTP: the blank line
     * that ends a request head), or after a short deadline, or when the client ends its input.
     *
     * @throws IllegalArgumentException when {@code requestEnd} is empty
     */
    public static BusyAnswer afterRequest(byte[] answer, byte[] requestEnd) {
        Objects.requireNonNull(requestEnd, "requestEnd");
        if (requestEnd.length == 0) {
            throw new IllegalArgumentException("requestEnd must not be empty");
        }
        return new BusyAnswer(Objects.requireNonNull(answer, "answer"), requestEnd);
    }

    /** The bytes sent to the refused client. */
    public byte[] answer() {
        return answer.clone();
    }

    /** The bytes that end the client's request, or {@code null} when the answer goes at once. */
    public byte[] requestEnd() {
        return requestEnd == null ? null : requestEnd.clone();
    }

    /** Whether the answer waits for the client's request. */
    public boolean waitsForRequest() {
        return requestEnd != null;
    }
}
