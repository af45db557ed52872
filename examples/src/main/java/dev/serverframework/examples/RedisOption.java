package dev.serverframework.examples;

import picocli.CommandLine.Option;

/**
 * {@code --redis}: a mixin of the commands whose servers share channels with other instances (chat, kv),
 * which hand it to {@link ServerOptions#clusteredBy}. The servers of other commands have nothing to share.
 */
final class RedisOption {
    @Option(names = "--redis", paramLabel = "URI", converter = PubSubOption.UriConverter.class,
            description = "Share pub/sub channels with the other instances using this Redis: redis://HOST:PORT "
                    + "or rediss://HOST:PORT (default: this process only).")
    String uri;
}
