package dev.serverframework.core;

import java.time.Duration;
import java.util.Objects;

/**
 * The checks every builder of the framework runs on a setting as it is set, so a bad value fails at once
 * with one kind of message, naming the setting, its range and the value ({@code "workers must be between
 * 1 and 1024, got 0"}). A protocol's own builder uses them too. Stateless; any thread.
 */
public final class SettingChecks {
    private SettingChecks() {
    }

    /**
     * Returns {@code value} if {@code min <= value <= max}.
     *
     * @throws IllegalArgumentException naming the setting and its range otherwise
     */
    public static int range(String name, int value, int min, int max) {
        if (value < min || value > max) {
            throw new IllegalArgumentException(name + " must be between " + min + " and " + max + ", got " + value);
        }
        return value;
    }

    /**
     * Returns {@code value} if {@code min <= value <= max}.
     *
     * @throws IllegalArgumentException naming the setting and its range otherwise
     */
    public static long range(String name, long value, long min, long max) {
        if (value < min || value > max) {
            throw new IllegalArgumentException(name + " must be between " + min + " and " + max + ", got " + value);
        }
        return value;
    }

    /**
     * Returns {@code value} if {@code value >= min}: for a setting with no natural upper bound.
     *
     * @throws IllegalArgumentException naming the setting and its least value otherwise
     */
    public static int atLeast(String name, int value, int min) {
        if (value < min) {
            throw new IllegalArgumentException(name + " must be at least " + min + ", got " + value);
        }
        return value;
    }

    /**
     * Returns {@code value} if {@code value >= min}: for a setting with no natural upper bound.
     *
     * @throws IllegalArgumentException naming the setting and its least value otherwise
     */
    public static long atLeast(String name, long value, long min) {
        if (value < min) {
            throw new IllegalArgumentException(name + " must be at least " + min + ", got " + value);
        }
        return value;
    }

    /**
     * Returns {@code value} if it is not null and not negative: for a duration with no natural upper bound.
     *
     * @throws NullPointerException     naming the setting when {@code value} is null
     * @throws IllegalArgumentException naming the setting otherwise
     */
    public static Duration notNegative(String name, Duration value) {
        Objects.requireNonNull(value, name);
        if (value.isNegative()) {
            throw new IllegalArgumentException(name + " must not be negative, got " + human(value));
        }
        return value;
    }

    /**
     * Returns {@code value} if it is not null and {@code min <= value <= max}.
     *
     * @throws NullPointerException     naming the setting when {@code value} is null
     * @throws IllegalArgumentException naming the setting and its range otherwise, in units a person reads
     *                                  ("250 ms", "5 s", "24 h")
     */
    public static Duration range(String name, Duration value, Duration min, Duration max) {
        Objects.requireNonNull(value, name);
        if (value.compareTo(min) < 0 || value.compareTo(max) > 0) {
            throw new IllegalArgumentException(name + " must be between " + human(min) + " and " + human(max)
                    + ", got " + human(value));
        }
        return value;
    }

    /** "24 h", "5 s" or "250 ms": what a person reads faster than ISO-8601's PT24H. */
    public static String human(Duration d) {
        long ms = d.toMillis();
        if (ms != 0 && ms % 3_600_000 == 0) {
            return ms / 3_600_000 + " h";
        }
        if (ms != 0 && ms % 1000 == 0) {
            return ms / 1000 + " s";
        }
        return d.toNanos() % 1_000_000 == 0 ? ms + " ms" : d.toNanos() + " ns";
    }
}
