package dev.serverframework.examples.bench;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.serverframework.examples.UsageException;

import java.io.IOException;
import java.nio.file.Path;

/**
 * {@code results.json} of a {@code bench http} run: the {@link Report} as Jackson writes records (latencies in
 * microseconds, errors by {@link ErrorKind} name, an unknown server CPU as null), under a {@code tool} field that
 * says what wrote it; read back for {@code --compare}. Stateless.
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

    /**
     * A results.json's name for labels: its directory's name and its own ("bench-worker/results.json"), since
     * every run's file is called results.json.
     */
    static String shortName(Path file) {
        Path name = file.getFileName();
        Path parent = file.toAbsolutePath().normalize().getParent();
        Path dir = parent == null ? null : parent.getFileName();
        return name == null ? file.toString() : dir == null ? name.toString() : dir + "/" + name;
    }

    /**
     * The run a {@code results.json} holds; its {@code compared} runs are not part of the file. Files of earlier
     * versions read too: errors keyed by label ({@link ErrorKind#of}), no label (the run is then named after the
     * file, {@link #shortName}), no environment, no server CPU (unknown), no seconds.
     *
     * @throws UsageException when it cannot be read or is not a bench http results.json: the message
     *                                  says which file and why, for a usage error before any load
     */
    static Report read(Path file) {
        JsonNode root;
        try {
            root = BenchJson.MAPPER.readTree(file.toFile());
        } catch (IOException e) {
            throw new UsageException("cannot read " + file + ": " + e.getMessage());
        }
        if (root == null || !root.isObject() || !TOOL.equals(root.path("tool").asText())
                || !root.path("cells").isArray()) {
            throw new UsageException(file + " is not a bench http results.json");
        }
        for (JsonNode cell : root.path("cells")) {
            if (!cell.isObject() || !cell.path("mode").isTextual() || !cell.path("connections").isInt()) {
                throw new UsageException(file + " is not a bench http results.json: a cell without "
                        + "mode and connections");
            }
        }
        ObjectNode n = (ObjectNode) root;
        if (!n.path("label").isTextual() || n.path("label").asText().isBlank()) {
            n.put("label", shortName(file));
        }
        try {
            return BenchJson.MAPPER.treeToValue(n, Report.class);
        } catch (IOException | IllegalArgumentException e) {
            throw new UsageException("cannot read " + file + " as a bench http results.json: "
                    + e.getMessage());
        }
    }
}
