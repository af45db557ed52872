package dev.serverframework.examples;

import org.openjdk.jmh.runner.NoBenchmarksException;
import org.openjdk.jmh.runner.Runner;
import org.openjdk.jmh.runner.RunnerException;
import org.openjdk.jmh.runner.options.CommandLineOptionException;
import org.openjdk.jmh.runner.options.CommandLineOptions;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

import java.io.IOException;
import java.util.concurrent.Callable;

/**
 * {@code jmh}: runs the JMH benchmarks bundled in this jar, passing its arguments to JMH. It does what
 * JMH's own {@code Main} does, but returns its status instead of calling {@code System.exit}, so that a
 * bad JMH option is a usage error (2) and a failed run a runtime error (1) like every other command's.
 */
@Command(name = "jmh", description = {"Runs the JMH benchmarks in this jar (arguments go to JMH, e.g. WorkerGroup).",
        "-h, --help prints this and then JMH's own options."})
final class JmhCommand implements Callable<Integer> {
    @Option(names = {"-h", "--help"}, description = "Show this help message, then JMH's options, and exit.")
    boolean help;

    @Parameters(arity = "0..*", description = "JMH arguments: benchmark name pattern and options.")
    String[] args = new String[0];

    @Spec
    CommandSpec spec;

    /** Hands the arguments to JMH's runner. On the main thread. */
    @Override
    public Integer call() throws RunnerException, IOException {
        CommandLineOptions jmh;
        try {
            jmh = new CommandLineOptions(args);
        } catch (CommandLineOptionException e) {
            throw new ParameterException(spec.commandLine(), "JMH: " + e.getMessage(), e);
        }
        if (help || jmh.shouldHelp()) {
            spec.commandLine().usage(spec.commandLine().getOut());
            spec.commandLine().getOut().println();
            spec.commandLine().getOut().flush();
            jmh.showHelp(); // JMH prints to System.out
            return 0;
        }
        Runner runner = new Runner(jmh);
        if (jmh.shouldList()) {
            runner.list();
        } else if (jmh.shouldListWithParams()) {
            runner.listWithParams(jmh);
        } else if (jmh.shouldListProfilers()) {
            jmh.listProfilers();
        } else if (jmh.shouldListResultFormats()) {
            jmh.listResultFormats();
        } else {
            try {
                runner.run();
            } catch (NoBenchmarksException e) {
                throw new ParameterException(spec.commandLine(),
                        "JMH: no benchmark matches " + String.join(" ", args) + " (jmh -l lists them)", e);
            }
        }
        return 0;
    }
}
