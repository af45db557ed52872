package dev.serverframework.metrics;

import dev.serverframework.core.testing.Await;
import dev.serverframework.core.testing.RedisServerProcess;
import org.junit.jupiter.api.Assumptions;

import java.io.File;
import java.io.IOException;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Comparator;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A real Prometheus server for tests (Debian's {@code prometheus}), on 127.0.0.1 and a free ephemeral port,
 * with a temporary storage directory and a config that scrapes one target every second. Its HTTP API is
 * read through the JDK's client. Not thread-safe: one test thread drives it.
 */
final class PrometheusProcess implements AutoCloseable {
    private static final Path BINARY = Path.of(System.getProperty("serverframework.prometheus", "/usr/bin/prometheus"));
    private static final Pattern VERSION = Pattern.compile("version (\\d+)\\.(\\d+)\\.");

    private final HttpClient client = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
    private final Path dir;
    private final int port;
    private final Process process;

    private PrometheusProcess(Path dir, int port, Process process) {
        this.dir = dir;
        this.port = port;
        this.process = process;
    }

    /** Skips the calling test when there is no prometheus binary: .ci/run installs Debian's. */
    static void assumeInstalled() {
        Assumptions.assumeTrue(Files.isExecutable(BINARY),
                BINARY + " is missing: apt-get install prometheus (.ci/run does)");
    }

    /**
     * Whether this Prometheus reads {@code scrape_protocols} (2.49 and later). Debian 12's 2.42 does not; it
     * always sends an Accept header that prefers OpenMetrics 1.0.0, then 0.0.1, then the text format 0.0.4.
     */
    static boolean supportsScrapeProtocols() throws IOException, InterruptedException {
        Process p = new ProcessBuilder(BINARY.toString(), "--version").redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        p.waitFor(10, TimeUnit.SECONDS);
        Matcher m = VERSION.matcher(out);
        if (!m.find()) {
            throw new IllegalStateException("no version in: " + out);
        }
        int major = Integer.parseInt(m.group(1));
        int minor = Integer.parseInt(m.group(2));
        return major > 2 || major == 2 && minor >= 49;
    }

    /**
     * Starts Prometheus scraping {@code target} ({@code host:port}) at {@code path} every second, with
     * {@code scrapeProtocol} (e.g. {@code OpenMetricsText1.0.0}) as the only one it asks for, or its default
     * Accept header when null, and waits until its API answers.
     */
    static PrometheusProcess start(String target, String path, String scrapeProtocol) throws IOException {
        Path dir = Files.createTempDirectory("prometheus-test");
        int port = RedisServerProcess.freePort();
        Path config = dir.resolve("prometheus.yml");
        Files.writeString(config, String.join("\n",
                "global:",
                "  scrape_interval: 1s",
                "  scrape_timeout: 1s",
                "scrape_configs:",
                "  - job_name: server-framework",
                "    metrics_path: " + path,
                scrapeProtocol == null ? "" : "    scrape_protocols: [" + scrapeProtocol + "]",
                "    static_configs:",
                "      - targets: ['" + target + "']",
                ""));
        Process process = new ProcessBuilder(BINARY.toString(),
                "--config.file=" + config,
                "--storage.tsdb.path=" + dir.resolve("data"),
                "--web.listen-address=127.0.0.1:" + port)
                .redirectErrorStream(true).redirectOutput(dir.resolve("prometheus.log").toFile()).start();
        PrometheusProcess prometheus = new PrometheusProcess(dir, port, process);
        try {
            Await.until("prometheus answers on port " + port + " (log: " + prometheus.log() + ")", Duration.ofSeconds(30),
                    () -> process.isAlive() && prometheus.ready());
        } catch (AssertionError e) {
            prometheus.close();
            throw e;
        }
        return prometheus;
    }

    private boolean ready() {
        try {
            return get("/-/ready").statusCode() == 200;
        } catch (IOException e) {
            return false;
        }
    }

    /** The body of {@code GET /api/v1/targets}. */
    String targets() throws IOException {
        return get("/api/v1/targets").body();
    }

    /** The body of {@code GET /api/v1/query?query=promql}: an instant query at now. */
    String query(String promql) throws IOException {
        return get("/api/v1/query?query=" + URLEncoder.encode(promql, StandardCharsets.UTF_8)).body();
    }

    /** Prometheus' own log so far, for failure messages. */
    String log() {
        try {
            return Files.readString(dir.resolve("prometheus.log"));
        } catch (IOException e) {
            return "(no log: " + e + ")";
        }
    }

    private HttpResponse<String> get(String pathAndQuery) throws IOException {
        HttpRequest req = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + pathAndQuery))
                .timeout(Duration.ofSeconds(5)).build();
        try {
            return client.send(req, HttpResponse.BodyHandlers.ofString());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException(e);
        }
    }

    @Override
    public void close() throws IOException {
        process.destroy();
        try {
            if (!process.waitFor(10, TimeUnit.SECONDS)) {
                process.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        try (var files = Files.walk(dir)) {
            files.sorted(Comparator.reverseOrder()).map(Path::toFile).forEach(File::delete);
        }
    }
}
