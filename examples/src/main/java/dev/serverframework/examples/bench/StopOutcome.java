package dev.serverframework.examples.bench;

/**
 * How one connection of {@link StopProbe} ended, as seen on the wire by the client. Every connection gets
 * exactly one. "Outstanding" means a request was sent and its reply had not (completely) arrived.
 */
public enum StopOutcome {
    /** HTTP: the last response carried {@code Connection: close}, then a clean EOF, no request outstanding. */
    ANSWERED_CLOSE("answered, Connection: close"),
    /**
     * A clean EOF that arrived before the next request was sent, and the last reply did not announce it (the
     * good ending for RESP, which cannot announce a close).
     */
    CLOSED_AFTER_ANSWER("closed after an answer"),
    /** A clean EOF while a request was outstanding and no byte of its reply had arrived: a lost request. */
    CLOSED_UNANSWERED("closed unanswered"),
    /** EOF or reset in the middle of a reply: some of its bytes arrived, not all. */
    TRUNCATED("truncated reply"),
    /** Connection reset or broken pipe (RST), with or without a request outstanding. */
    RESET("reset"),
    /** A reply that could not be parsed, was not the expected one, or bytes that no request asked for. */
    BAD_RESPONSE("bad response"),
    /** Still open at the deadline (the probe then closed it itself). */
    STILL_OPEN("still open at the deadline"),
    /** Any other I/O error (neither EOF nor reset), with its message in the connection's detail. */
    ERROR("other I/O error");

    private final String label;

    StopOutcome(String label) {
        this.label = label;
    }

    /** The words used in the table. */
    public String label() {
        return label;
    }
}
