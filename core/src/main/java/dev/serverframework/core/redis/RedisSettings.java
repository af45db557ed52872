package dev.serverframework.core.redis;

import io.lettuce.core.RedisURI;

import java.time.Duration;

/**
 * A {@link RedisEngine}'s settings, checked by its builder.
 *
 * @param address where Redis is, for logs: host and port only, never a password
 */
record RedisSettings(RedisURI uri, String address, int maxPendingPublishes, Duration reconnectMin,
                     Duration reconnectMax, Duration commandTimeout, int ioThreads) {
}
