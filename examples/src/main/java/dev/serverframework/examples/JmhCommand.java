package dev.serverframework.examples;

import org.openjdk.jmh.runner.NoBenchmarksException;
import org.openjdk.jmh.runner.Runner;
import org.openjdk.jmh.runner.RunnerException;
import org.openjdk.jmh.runner.options.CommandLineOptionException;
import org.openjdk.jmh.runner.options.CommandLineOptions;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

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

    private static final String JMH_OPTIONS_SECTION = "jmhOptions";
    private static final Pattern JMH_BAD_ARGUMENT = Pattern.compile("argument '(.*)' of option (\\S+)");

    /** Appends JMH's option list to {@code jmh}'s usage, wherever picocli prints it from. */
    static void appendJmhOptionsToUsage(CommandLine jmh) {
        List<String> keys = new ArrayList<>(jmh.getHelpSectionKeys());
        keys.add(JMH_OPTIONS_SECTION);
        jmh.setHelpSectionKeys(keys);
        jmh.getHelpSectionMap().put(JMH_OPTIONS_SECTION, help -> System.lineSeparator() + jmhOptions());
    }

    /** JMH's option list, which JMH only prints to System.out: captured there, on the one thread printing help. */
    private static String jmhOptions() {
        PrintStream original = System.out;
        ByteArrayOutputStream text = new ByteArrayOutputStream();
        try (PrintStream capture = new PrintStream(text, true, StandardCharsets.UTF_8)) {
            System.setOut(capture);
            new CommandLineOptions().showHelp();
        } catch (IOException | CommandLineOptionException e) {
            return "(JMH's options cannot be listed: " + e.getMessage() + ")" + System.lineSeparator();
        } finally {
            System.setOut(original);
        }
        return text.toString(StandardCharsets.UTF_8);
    }

    /** " (typed: -foo)": the arguments JMH's message is about, as the user typed them; empty if unknown. */
    private String typed(String message) {
        Matcher m = JMH_BAD_ARGUMENT.matcher(String.valueOf(message));
        if (!m.find()) {
            return " (arguments: " + String.join(" ", args) + ")";
        }
        String value = m.group(1);
        String option = "-" + m.group(2);
        for (int i = 0; i < args.length; i++) {
            if (args[i].equals(option + value)) {
                return " (typed: " + args[i] + ")";
            }
            if (args[i].equals(option) && i + 1 < args.length && args[i + 1].equals(value)) {
                return " (typed: " + args[i] + " " + args[i + 1] + ")";
            }
        }
        return " (arguments: " + String.join(" ", args) + ")";
    }

    /** Hands the arguments to JMH's runner. On the main thread. */
    @Override
    public Integer call() throws RunnerException, IOException {
        CommandLineOptions jmh;
        try {
            jmh = new CommandLineOptions(args);
        } catch (CommandLineOptionException e) {
            // JMH names what it parsed ("argument 'oo' of option f"), not what was typed ("-foo").
            throw new ParameterException(spec.commandLine(), "JMH: " + e.getMessage() + typed(e.getMessage()), e);
        }
        if (help || jmh.shouldHelp()) {
            // The same usage as 'help jmh' prints: ours, then JMH's options (appendJmhOptionsToUsage).
            spec.commandLine().usage(spec.commandLine().getOut());
            spec.commandLine().getOut().flush();
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
