package dev.serverframework.examples.bench;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.io.IOException;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;

/**
 * {@code results.json} of a {@code bench http} run: written from a {@link Report}, and read back for
 * {@code --compare}. Latencies in microseconds; the cells are {@link CellResult}s as Jackson writes records,
 * errors by {@link ErrorKind} name. Stateless.
 */
final class ResultsJson {
    private ResultsJson() {
    }

    /** {@code results.json} of {@code r}: the run's settings, every cell with its errors by kind, the warnings. */
    static String of(Report r) {
        ObjectNode n = BenchJson.object();
        n.put("tool", "server-framework bench http");
        n.put("target", r.target());
        n.put("startedAt", r.startedAt());
        n.put("warmupSeconds", r.warmupSeconds());
        n.put("durationSeconds", r.durationSeconds());
        n.put("rate", r.rate());
        n.put("threads", r.threads());
        n.put("cores", r.cores());
        n.put("sourceAddresses", r.sourceAddresses());
        n.put("latencyUnit", "microseconds");
        n.set("cells", BenchJson.MAPPER.valueToTree(r.cells()));
        r.warnings().forEach(n.putArray("warnings")::add);
        return BenchJson.write(n);
    }

    /** The cells of a {@code results.json} written by an earlier run. */
    static List<CellResult> readCells(Path file) throws IOException {
        JsonNode root = BenchJson.MAPPER.readTree(file.toFile());
        if (root == null || !root.path("cells").isArray()) {
            throw new IllegalArgumentException(file + " is not a bench results.json (no \"cells\")");
        }
        return Arrays.asList(BenchJson.MAPPER.treeToValue(root.get("cells"), CellResult[].class));
    }
}
