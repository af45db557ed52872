package dev.serverframework.examples;

import dev.serverframework.examples.bench.BenchCommand;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/**
 * Entry point of the examples jar: {@code java -jar server-framework-examples.jar <command> [options]}.
 */
@Command(name = "server-framework-examples",
        mixinStandardHelpOptions = true,
        description = "Example servers built with server-framework.",
        subcommands = {HttpdCommand.class, EchoCommand.class, ChatCommand.class, JmhCommand.class, KvCommand.class,
                BenchCommand.class})
public final class Main implements Runnable {

    /** Runs the command line and exits with its status. */
    public static void main(String[] args) {
        CommandLine cli = new CommandLine(new Main());
        // Everything after "jmh" belongs to JMH, its options included.
        cli.getSubcommands().get("jmh").setUnmatchedOptionsArePositionalParams(true);
        int status = cli
                .setExecutionExceptionHandler((e, cmd, parsed) -> {
                    // Users get the reason, not a stack trace.
                    cmd.getErr().println("error: " + e.getMessage());
                    return 1;
                })
                .execute(args);
        if (status != 0) {
            System.exit(status);
        }
    }

    /** Without a command: prints the usage. */
    @Override
    public void run() {
        new CommandLine(this).usage(System.out);
    }
}
