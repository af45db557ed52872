package dev.serverframework.examples.bench;

import picocli.CommandLine.Model.CommandSpec;

import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.List;
import java.util.stream.Stream;

/**
 * Where a benchmark ran, for its report: figures mean little without the machine, the JVM and the exact
 * commands behind them.
 *
 * @param cores       this machine's online cores (the bench itself may be pinned to fewer)
 * @param cpuModel    the CPU's model name from {@code /proc/cpuinfo}, or "unknown"
 * @param os          the operating system and its kernel release
 * @param jvm         the generator's Java version and VM
 * @param jvmVendor   its vendor
 * @param jvmFlags    the generator JVM's own flags
 * @param server      the command of the server it started ({@code --server}), or the target it was given
 * @param command     the bench command line
 * @param date        when it ran (ISO-8601)
 */
public record Environment(int cores, String cpuModel, String os, String jvm, String jvmVendor, List<String> jvmFlags,
                          String server, String command, String date) {

    /** Flags copied, none when null; a string a compared file lacks (or has as null) is "unknown". */
    public Environment {
        jvmFlags = jvmFlags == null ? List.of() : jvmFlags.stream().map(Environment::known).toList();
        cpuModel = known(cpuModel);
        os = known(os);
        jvm = known(jvm);
        jvmVendor = known(jvmVendor);
        server = known(server);
        command = known(command);
        date = known(date);
    }

    /** Where a compared results.json does not say: every string "unknown", 0 cores. */
    static Environment unknown() {
        return new Environment(0, null, null, null, null, null, null, null, null);
    }

    /** {@code s}, or "unknown" when null. */
    /**
     * The machine's online cores from /sys (e.g. "0-1,4"), not the JVM's count, which a {@code taskset} pinning
     * the bench lowers; the JVM's count where /sys cannot be read.
     */
    static int onlineCores() {
        try {
            int n = 0;
            for (String range : Files.readString(Path.of("/sys/devices/system/cpu/online")).trim().split(",")) {
                String[] ends = range.split("-");
                n += ends.length == 1 ? 1 : Integer.parseInt(ends[1]) - Integer.parseInt(ends[0]) + 1;
            }
            return n;
        } catch (IOException | RuntimeException e) {
            return Runtime.getRuntime().availableProcessors();
        }
    }

    static String known(String s) {
        return s == null ? "unknown" : s;
    }

    /** This process's environment, with the server (or target) and the bench command line as given. */
    static Environment here(String server, String command) {
        return new Environment(onlineCores(), readCpuModel(),
                System.getProperty("os.name") + " " + System.getProperty("os.version") + " ("
                        + System.getProperty("os.arch") + ")",
                System.getProperty("java.runtime.version") + ", " + System.getProperty("java.vm.name"),
                System.getProperty("java.vm.vendor"), ManagementFactory.getRuntimeMXBean().getInputArguments(),
                server, command, Instant.now().toString());
    }

    /**
     * The command line of a bench command as given, arguments quoted for a shell where they need it.
     *
     * @param name the command's words, e.g. "bench http", shown when it ran on its own rather than from Main
     */
    static String commandLine(CommandSpec spec, String name) {
        List<String> args = spec == null ? List.of() : spec.commandLine().getParseResult().originalArgs();
        // Run from Main, the arguments start with the command's words; run on its own, the command has no parent.
        StringBuilder b = new StringBuilder(spec != null && spec.parent() != null ? "" : name);
        for (String a : args) {
            b.append(b.length() == 0 ? "" : " ")
                    .append(a.matches("[\\w./:=,@%+-]+") ? a : "'" + a.replace("'", "'\\''") + "'");
        }
        return b.toString();
    }

    private static String readCpuModel() {
        try (Stream<String> lines = Files.lines(Path.of("/proc/cpuinfo"))) {
            return lines.filter(l -> l.startsWith("model name")).map(l -> l.substring(l.indexOf(':') + 1).trim())
                    .findFirst().orElse("unknown");
        } catch (IOException | UnsupportedOperationException e) {
            return "unknown";
        }
    }
}
