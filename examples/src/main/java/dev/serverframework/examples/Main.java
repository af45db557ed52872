package dev.serverframework.examples;

import dev.serverframework.examples.bench.BenchCommand;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.HelpCommand;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;

import java.io.PrintWriter;
import java.util.concurrent.Callable;

/**
 * Entry point of the examples jar: {@code java -jar server-framework-examples.jar <command> [options]}.
 * Exit status: 0 success, 2 usage error (a bad or conflicting option, no command; a command signals one by
 * throwing picocli's {@code ParameterException}, a parser that knows no command by throwing a
 * {@link UsageException}), 1 runtime error (a port in use, an unreadable file: any other exception, an
 * {@link IllegalArgumentException} from deep inside included); {@code bench stop} documents 3 and 4 of its own.
 */
@Command(name = "server-framework-examples",
        mixinStandardHelpOptions = true,
        versionProvider = Version.class,
        description = "Example servers built with server-framework.",
        subcommands = {HelpCommand.class, HttpdCommand.class, EchoCommand.class, ChatCommand.class,
                JmhCommand.class, KvCommand.class, BenchCommand.class})
public final class Main implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    /** Runs the command line and exits with its status. On the main thread. */
    public static void main(String[] args) {
        int status = commandLine().execute(args);
        if (status != 0) {
            System.exit(status);
        }
    }

    /** The command line as {@link #main} runs it; tests run it in-process with their own writers. */
    static CommandLine commandLine() {
        CommandLine cli = new CommandLine(new Main());
        // Everything after "jmh" belongs to JMH, its options included (but for -h, see JmhCommand).
        CommandLine jmh = cli.getSubcommands().get("jmh");
        jmh.setUnmatchedOptionsArePositionalParams(true);
        // Its usage ends with JMH's own options, for 'help jmh' as for 'jmh --help'.
        JmhCommand.appendJmhOptionsToUsage(jmh);
        giveVersion(cli);
        return cli.setParameterExceptionHandler(Main::usageError).setExecutionExceptionHandler((e, cmd, parsed) -> {
            if (e instanceof UsageException) {
                // An option parser's verdict ("--duration must be like 10s, ..."): a usage error of this command.
                return usageError(new CommandLine.ParameterException(cmd, e.getMessage(), e), parsed.originalArgs()
                        .toArray(String[]::new));
            }
            // Users get the reason, not a stack trace.
            cmd.getErr().println("error: " + (e.getMessage() != null ? e.getMessage() : e.toString()));
            cmd.getErr().flush();
            return cmd.getCommandSpec().exitCodeOnExecutionException();
        });
    }

    /** {@code -V} of every sub-command prints the jar's version too, not an empty line. */
    private static void giveVersion(CommandLine cli) {
        for (CommandLine sub : cli.getSubcommands().values()) {
            if (sub.getCommandSpec().version().length == 0) {
                sub.getCommandSpec().versionProvider(new Version());
            }
            giveVersion(sub);
        }
    }

    /** A usage error: one "error: ..." line naming what was wrong, a suggestion if any, where help is; 2. */
    private static int usageError(CommandLine.ParameterException e, String[] args) {
        CommandLine cmd = e.getCommandLine();
        PrintWriter err = cmd.getErr();
        err.println("error: " + e.getMessage());
        CommandLine.UnmatchedArgumentException.printSuggestions(e, err);
        err.println("Run '" + cmd.getCommandSpec().qualifiedName() + " --help' for its options.");
        err.flush();
        return cmd.getCommandSpec().exitCodeOnInvalidInput();
    }

    /** Without a command: a usage error. */
    @Override
    public Integer call() {
        throw new CommandLine.ParameterException(spec.commandLine(), "a command is required");
    }
}
