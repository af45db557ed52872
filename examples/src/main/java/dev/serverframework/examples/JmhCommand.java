package dev.serverframework.examples;

import picocli.CommandLine.Command;
import picocli.CommandLine.Parameters;

import java.util.concurrent.Callable;

/** {@code jmh}: runs the JMH benchmarks bundled in this jar, passing its arguments to JMH. */
@Command(name = "jmh", description = "Runs the JMH benchmarks in this jar (arguments go to JMH, e.g. WorkerGroup).")
final class JmhCommand implements Callable<Integer> {
    @Parameters(arity = "0..*", description = "JMH arguments: benchmark name pattern and options (-h for JMH help).")
    String[] args = new String[0];

    /** Hands the arguments to JMH's own command line. */
    @Override
    public Integer call() throws Exception {
        // Qualified on purpose: this package has a Main of its own, which an import would shadow here.
        org.openjdk.jmh.Main.main(args);
        return 0;
    }
}
