package dev.serverframework.examples.bench;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.io.IOException;
import java.nio.file.Path;

/**
 * {@code results.json} of a {@code bench http} run: the {@link Report} as Jackson writes records (latencies in
 * microseconds, errors by {@link ErrorKind} name), under a {@code tool} field that says what wrote it; read back
 * for {@code --compare}. Stateless.
 */
final class ResultsJson {
    private static final String TOOL = "server-framework bench http";

    private ResultsJson() {
    }

    /** {@code results.json} of {@code r}. */
    static String of(Report r) {
        ObjectNode n = BenchJson.object();
        n.put("tool", TOOL);
        n.put("latencyUnit", "microseconds");
        n.setAll((ObjectNode) BenchJson.MAPPER.valueToTree(r));
        return BenchJson.write(n);
    }

    /** The run a {@code results.json} holds; its {@code compared} runs are not part of the file. */
    static Report read(Path file) throws IOException {
        JsonNode root;
        try {
            root = BenchJson.MAPPER.readTree(file.toFile());
        } catch (IOException e) {
            throw new IllegalArgumentException("cannot read " + file + ": " + e.getMessage());
        }
        if (root == null || !TOOL.equals(root.path("tool").asText()) || !root.path("cells").isArray()) {
            throw new IllegalArgumentException(file + " is not a results.json of bench http");
        }
        return BenchJson.MAPPER.treeToValue(root, Report.class);
    }
}
