package dev.serverframework.examples.kv;

/**
 * What a {@link RespDecoder} hands the protocol: a request to run, a request it could not parse, or the end
 * of one read of the socket. Sealed, so a protocol that handles the three has handled everything the decoder
 * emits. (Input over a limit is not among them: the decoder reports it as Netty's
 * {@link io.netty.handler.codec.TooLongFrameException}, which reaches {@code Protocol.onInputTooLong}.)
 */
public sealed interface RespMessage permits RespMessage.Command, RespMessage.ProtocolError, RespMessage.EndOfRead {

    /** The one {@link EndOfRead}: it carries nothing. */
    EndOfRead END_OF_READ = new EndOfRead();

    /**
     * A complete request: the command name and its arguments, binary-safe, never empty. The arrays are the
     * decoder's copies, handed over to the protocol (compared by identity, as arrays are).
     *
     * @param args the command name, then its arguments
     */
    record Command(byte[][] args) implements RespMessage {
    }

    /**
     * Input that breaks RESP's grammar, phrased as Redis phrases it (e.g. {@code Protocol error: expected '$',
     * got ':'}), without the {@code ERR} prefix. The decoder discards everything after it.
     *
     * @param message the reason, as the error reply's text
     */
    record ProtocolError(String message) implements RespMessage {
    }

    /**
     * Follows the requests decoded from one read of the socket, before {@code channelReadComplete}: the
     * protocol may gather their replies and write them as one buffer when it sees this.
     */
    record EndOfRead() implements RespMessage {
    }
}
