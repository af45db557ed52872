package dev.serverframework.examples;

/**
 * A value typed on the command line is wrong, found by a parser that does not know the command it serves
 * ({@code --duration} of the bench commands, {@code --target}): {@link Main} reports it as a usage error
 * (exit status 2) of the command that was running, as picocli's {@code ParameterException} that commands
 * throw themselves. Every other exception escaping a command is a runtime error (exit status 1). An
 * {@link IllegalArgumentException}, so that a parser's callers outside the command line see the usual type.
 */
public final class UsageException extends IllegalArgumentException {
    /** @param message what is wrong, naming the option as the user typed it */
    public UsageException(String message) {
        super(message);
    }
}
