package dev.serverframework.examples.bench;

import java.util.List;
import java.util.function.Function;

import static dev.serverframework.examples.bench.HtmlReport.esc;

/** The "Environment" section of the bench reports: each run's machine, JVM and commands, one column per run. */
final class EnvironmentHtml {
    private EnvironmentHtml() {
    }

    /**
     * The section's heading and table.
     *
     * @param labels       the runs' names, the column heads
     * @param environments their environments, in the same order (null: unknown)
     */
    static String table(List<String> labels, List<Environment> environments) {
        StringBuilder h = new StringBuilder("<h2>Environment</h2>\n<table id=\"environment\"><tr><th></th>");
        labels.forEach(label -> h.append("<th class=\"l\">").append(esc(label)).append("</th>"));
        h.append("</tr>\n");
        row(h, environments, "date", Environment::date);
        row(h, environments, "host cores", e -> e.cores() > 0 ? Integer.toString(e.cores()) : "unknown");
        row(h, environments, "CPU", Environment::cpuModel);
        row(h, environments, "OS, kernel", Environment::os);
        row(h, environments, "JVM", e -> e.jvm() + " (" + e.jvmVendor() + ")");
        row(h, environments, "JVM flags", e -> e.jvmFlags().isEmpty() ? "(none)" : String.join(" ", e.jvmFlags()));
        row(h, environments, "server", Environment::server);
        row(h, environments, "bench command", Environment::command);
        return h.append("</table>\n").toString();
    }

    private static void row(StringBuilder h, List<Environment> environments, String name,
                            Function<Environment, String> value) {
        h.append("<tr><th class=\"l\">").append(name).append("</th>");
        for (Environment e : environments) {
            h.append("<td class=\"l\"><code>").append(e == null ? "unknown" : esc(value.apply(e))).append("</code></td>");
        }
        h.append("</tr>\n");
    }
}
