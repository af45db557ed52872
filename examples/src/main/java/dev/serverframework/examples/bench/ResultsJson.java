package dev.serverframework.examples.bench;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;

/**
 * {@code results.json} of a {@code bench http} run: written from a {@link Report}, and read back for
 * {@code --compare}. Latencies in microseconds; every error kind present, 0 when none. Stateless.
 */
final class ResultsJson {
    private ResultsJson() {
    }

    /** {@code results.json} of {@code r}: the run's settings, every cell with its errors by kind, the warnings. */
    static String of(Report r) {
        StringBuilder b = new StringBuilder("{\n");
        b.append("  \"tool\": \"server-framework bench http\",\n");
        b.append("  \"target\": ").append(Json.quote(r.target())).append(",\n");
        b.append("  \"startedAt\": ").append(Json.quote(r.startedAt())).append(",\n");
        b.append("  \"warmupSeconds\": ").append(Json.number(r.warmupSeconds())).append(",\n");
        b.append("  \"durationSeconds\": ").append(Json.number(r.durationSeconds())).append(",\n");
        b.append("  \"rate\": ").append(Json.number(r.rate())).append(",\n");
        b.append("  \"threads\": ").append(r.threads()).append(",\n");
        b.append("  \"cores\": ").append(r.cores()).append(",\n");
        b.append("  \"sourceAddresses\": ").append(r.sourceAddresses()).append(",\n");
        b.append("  \"latencyUnit\": \"microseconds\",\n");
        b.append("  \"cells\": [");
        for (int i = 0; i < r.cells().size(); i++) {
            CellResult c = r.cells().get(i);
            b.append(i == 0 ? "\n" : ",\n").append("    {");
            b.append("\"mode\": ").append(Json.quote(c.mode()));
            b.append(", \"connections\": ").append(c.connections());
            b.append(", \"seconds\": ").append(Json.number(c.seconds()));
            b.append(", \"ok\": ").append(c.ok());
            b.append(", \"rps\": ").append(Json.number(c.rps()));
            b.append(", \"p50\": ").append(Json.number(c.p50()));
            b.append(", \"p90\": ").append(Json.number(c.p90()));
            b.append(", \"p99\": ").append(Json.number(c.p99()));
            b.append(", \"p999\": ").append(Json.number(c.p999()));
            b.append(", \"max\": ").append(Json.number(c.max()));
            b.append(", \"mean\": ").append(Json.number(c.mean()));
            b.append(", \"connects\": ").append(c.connects());
            b.append(", \"connectP50\": ").append(Json.number(c.connectP50()));
            b.append(", \"connectP99\": ").append(Json.number(c.connectP99()));
            b.append(", \"connectMax\": ").append(Json.number(c.connectMax()));
            b.append(", \"cpuCores\": ").append(Json.number(c.cpuCores()));
            b.append(", \"cpuShare\": ").append(Json.number(c.cpuShare()));
            b.append(", \"errorTotal\": ").append(c.errorTotal());
            b.append(", \"errors\": {");
            String sep = "";
            for (ErrorKind k : ErrorKind.values()) {
                b.append(sep).append(Json.quote(k.label())).append(": ").append(c.errors().getOrDefault(k, 0L));
                sep = ", ";
            }
            b.append("}, \"firstError\": ").append(Json.quote(c.firstError())).append('}');
        }
        b.append("\n  ],\n  \"warnings\": [");
        for (int i = 0; i < r.warnings().size(); i++) {
            b.append(i == 0 ? "" : ", ").append(Json.quote(r.warnings().get(i)));
        }
        b.append("]\n}\n");
        return b.toString();
    }

    /** The cells of a {@code results.json} written by an earlier run. */
    @SuppressWarnings("unchecked")
    static List<CellResult> readCells(Path file) throws IOException {
        Object root = Json.parse(Files.readString(file, StandardCharsets.UTF_8));
        if (!(root instanceof Map<?, ?> m) || !(m.get("cells") instanceof List<?> list)) {
            throw new IllegalArgumentException(file + " is not a bench results.json (no \"cells\")");
        }
        List<CellResult> out = new ArrayList<>();
        for (Object o : list) {
            Map<String, Object> c = (Map<String, Object>) o;
            Map<ErrorKind, Long> errors = new EnumMap<>(ErrorKind.class);
            if (c.get("errors") instanceof Map<?, ?> em) {
                for (ErrorKind k : ErrorKind.values()) {
                    long n = (long) d(em.get(k.label()));
                    if (n > 0) {
                        errors.put(k, n);
                    }
                }
            }
            out.add(new CellResult((String) c.get("mode"), (int) d(c.get("connections")), d(c.get("seconds")),
                    (long) d(c.get("ok")), errors, d(c.get("p50")), d(c.get("p90")), d(c.get("p99")),
                    d(c.get("p999")), d(c.get("max")), d(c.get("mean")), (long) d(c.get("connects")),
                    d(c.get("connectP50")), d(c.get("connectP99")), d(c.get("connectMax")),
                    d(c.get("cpuCores")), d(c.get("cpuShare")), (String) c.get("firstError")));
        }
        return out;
    }

    private static double d(Object o) {
        return o instanceof Double v ? v : 0;
    }
}
