package dev.serverframework.examples;

import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.ParameterException;

import java.util.Map;
import java.util.function.Supplier;

/**
 * Runs the framework's own checks on option values before anything starts, and turns their
 * {@link IllegalArgumentException}, which names a setting ({@code idleTimeout}), into a usage error naming
 * the option the user typed ({@code --idle-timeout}): the builders stay the one place that knows each range.
 * On the command's thread.
 */
public final class OptionChecks {
    private OptionChecks() {
    }

    /**
     * Runs {@code step}, which sets options on a builder; a setting's error in it becomes a usage error of
     * {@code spec}'s command.
     *
     * @param options the option of each setting the step sets, e.g. {@code "idleTimeout" -> "--idle-timeout"};
     *                OptionChecksTest checks that each key is what its builder's message starts with
     * @throws ParameterException naming the option when a setting in {@code options} refuses its value
     */
    public static <T> T check(CommandSpec spec, Map<String, String> options, Supplier<T> step) {
        try {
            return step.get();
        } catch (IllegalArgumentException e) {
            String message = String.valueOf(e.getMessage());
            for (Map.Entry<String, String> o : options.entrySet()) {
                // The builders' messages start with the setting's name: "workers must be between 1 and 1024, got 0".
                if (message.startsWith(o.getKey() + " ")) {
                    throw new ParameterException(spec.commandLine(),
                            o.getValue() + message.substring(o.getKey().length()), e);
                }
            }
            throw e;
        }
    }

    /** A usage error: {@code a} and {@code b} were both given and contradict each other. */
    public static ParameterException conflict(CommandSpec spec, String a, String b, String why) {
        return new ParameterException(spec.commandLine(), a + " and " + b + " cannot be used together: " + why);
    }
}
