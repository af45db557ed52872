package dev.serverframework.examples;

import dev.serverframework.core.PubSub;
import dev.serverframework.core.redis.RedisEngine;
import picocli.CommandLine.ITypeConverter;
import picocli.CommandLine.TypeConversionException;

import java.net.URI;

/**
 * {@code --redis}: which publish/subscribe the example servers of one process share. The one place that
 * turns the option into a {@link PubSub}, so that the Redis engine plugs in here alone.
 */
final class PubSubOption {
    private PubSubOption() {
    }

    /**
     * The pub/sub for {@code --redis}: in-process when it is absent (null). Called once per process, on the
     * starting thread, by {@link ServerOptions#pubSub()}.
     *
     * @param redisUri a URI {@link UriConverter} accepted, or null
     */
    static PubSub pubSubFor(String redisUri) {
        if (redisUri == null) {
            return PubSub.inProcess();
        }
        return PubSub.over(RedisEngine.create(redisUri));
    }

    /** How the start-up lines name the pub/sub: {@code in-process}, or the Redis URI without its password. */
    static String describe(String redisUri) {
        if (redisUri == null) {
            return "in-process (this process's servers only)";
        }
        URI uri = URI.create(redisUri);
        // A password in the URI must not reach a terminal or a log.
        return uri.getRawUserInfo() == null ? redisUri : redisUri.replace(uri.getRawUserInfo() + "@", "***@");
    }

    /**
     * Checks {@code --redis} as picocli parses it, so a bad value is a usage error naming the option before
     * anything starts: {@code redis://} or {@code rediss://} (TLS), a host, an optional port.
     */
    static final class UriConverter implements ITypeConverter<String> {
        @Override
        public String convert(String value) {
            try {
                RedisEngine.builder(value); // the engine's own check, so the option and the API agree
                return value;
            } catch (IllegalArgumentException e) {
                throw new TypeConversionException(e.getMessage());
            }
        }
    }
}
