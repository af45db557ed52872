package dev.serverframework.examples.bench;

import com.fasterxml.jackson.annotation.JsonCreator;
import io.netty.channel.ConnectTimeoutException;

import java.io.IOException;
import java.net.ConnectException;
import java.util.Locale;

/**
 * What went wrong with one request; every failed request is counted under exactly one kind. {@code results.json}
 * keys errors by the constant's name ({@code "CONNECT_REFUSED"}); files written before it did key them by
 * {@link #label()} ({@code "refused"}), and both are read ({@link #of}).
 */
public enum ErrorKind {
    /** The TCP connect was refused (nothing listens, or the backlog is full). */
    CONNECT_REFUSED("refused"),
    /** Any other connect failure, e.g. no free local port (EADDRNOTAVAIL). */
    CONNECT_ERROR("connect"),
    /** The peer reset the connection (RST). */
    RESET("reset"),
    /** No complete response (or no connect) within the timeout. */
    TIMEOUT("timeout"),
    /** A complete, well-framed response with an unexpected status. */
    BAD_STATUS("status"),
    /** The body did not match Content-Length: the connection ended early, or more bytes came than announced. */
    WRONG_LENGTH("length"),
    /** The body had the announced length but differed from {@code --expect-body}. */
    BAD_BODY("body"),
    /** The connection was closed before any byte of the response arrived. */
    CLOSED("closed"),
    /** Not HTTP/1.x as this tool reads it: a bad status line or headers, broken chunk framing, an oversized head. */
    BAD_RESPONSE("protocol"),
    /** Anything else (reported with its message in the log). */
    OTHER("other");

    private final String label;

    ErrorKind(String label) {
        this.label = label;
    }

    /**
     * The short name the terminal table, the report and the first error show, e.g. "refused". Not the JSON key:
     * {@code results.json} uses {@link #name()}, and reads either (see {@link #of}).
     */
    public String label() {
        return label;
    }

    /**
     * The kind named {@code text}: its constant's name ({@code CONNECT_REFUSED}, as {@code results.json} is written
     * now) or its {@link #label()} ({@code refused}, as results.json was written before), so that {@code --compare}
     * reads both; Jackson uses it for the keys of the {@code errors} map too.
     *
     * @throws IllegalArgumentException when it is neither
     */
    @JsonCreator
    public static ErrorKind of(String text) {
        for (ErrorKind k : values()) {
            if (k.name().equals(text) || k.label.equals(text)) {
                return k;
            }
        }
        throw new IllegalArgumentException("not an error kind: " + text);
    }

    /**
     * True when the server did send something the tool read as a response (a wrong status, body or length, or an
     * unreadable one): work the server did, counted with the valid responses for its CPU per request.
     */
    boolean isResponse() {
        return this == BAD_STATUS || this == WRONG_LENGTH || this == BAD_BODY || this == BAD_RESPONSE;
    }

    /** The kind of a failed connect. */
    static ErrorKind ofConnectFailure(Throwable t) {
        if (t instanceof ConnectTimeoutException) {
            return TIMEOUT;
        }
        String msg = String.valueOf(t.getMessage()).toLowerCase(Locale.ROOT);
        if (t instanceof ConnectException && msg.contains("refused")) {
            return CONNECT_REFUSED;
        }
        return CONNECT_ERROR;
    }

    /** The kind of an I/O failure on an established connection. */
    static ErrorKind ofIoFailure(Throwable t) {
        String msg = String.valueOf(t.getMessage()).toLowerCase(Locale.ROOT);
        if (t instanceof IOException && (msg.contains("reset") || msg.contains("broken pipe"))) {
            return RESET;
        }
        return OTHER;
    }
}
