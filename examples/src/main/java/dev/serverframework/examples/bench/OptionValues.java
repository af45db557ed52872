package dev.serverframework.examples.bench;

import dev.serverframework.examples.UsageException;

import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.Locale;

/** Parsers for the option values the bench commands share: durations and {@code HOST:PORT} targets. */
final class OptionValues {
    private OptionValues() {
    }

    /**
     * "10s", "500ms", "2m", or a plain number of seconds.
     *
     * @throws UsageException naming {@code option} when {@code s} is none of these
     */
    static Duration duration(String s, String option) {
        String v = s.trim().toLowerCase(Locale.ROOT);
        try {
            if (v.endsWith("ms")) {
                return Duration.ofMillis(Long.parseLong(v.substring(0, v.length() - 2)));
            }
            if (v.endsWith("s")) {
                return Duration.ofMillis(Math.round(Double.parseDouble(v.substring(0, v.length() - 1)) * 1000));
            }
            if (v.endsWith("m")) {
                return Duration.ofSeconds(Long.parseLong(v.substring(0, v.length() - 1)) * 60);
            }
            return Duration.ofMillis(Math.round(Double.parseDouble(v) * 1000));
        } catch (NumberFormatException e) {
            throw new UsageException(option + " must be like 10s, 500ms or 1m, got " + s);
        }
    }

    /**
     * A {@code --target HOST:PORT}, resolved.
     *
     * @throws UsageException when it is not HOST:PORT
     */
    static InetSocketAddress hostPort(String hostPort) {
        int c = hostPort.lastIndexOf(':');
        if (c <= 0) {
            throw new UsageException("--target must be HOST:PORT, got " + hostPort);
        }
        try {
            return new InetSocketAddress(hostPort.substring(0, c), Integer.parseInt(hostPort.substring(c + 1)));
        } catch (NumberFormatException e) {
            throw new UsageException("--target must be HOST:PORT, got " + hostPort);
        }
    }
}
