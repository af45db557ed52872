package dev.serverframework.examples.bench;

import dev.serverframework.examples.Main;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * The command line of a child JVM that runs one of this jar's commands: the same Java and class path as this
 * process, so the child runs exactly this build. Used for the servers and load processes the benchmarks start.
 */
final class ChildJvm {
    private ChildJvm() {
    }

    /** {@code java <jvmOptions> -cp <this class path> Main <arguments>}. */
    static List<String> command(List<String> jvmOptions, List<String> arguments) {
        List<String> cmd = new ArrayList<>();
        cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        cmd.addAll(jvmOptions);
        cmd.add("-cp");
        cmd.add(System.getProperty("java.class.path"));
        cmd.add(Main.class.getName());
        cmd.addAll(arguments);
        return cmd;
    }
}
