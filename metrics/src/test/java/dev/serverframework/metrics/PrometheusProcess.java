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
 * with a temporary storage directory and a config that scrapes one target every two seconds. Its HTTP API is
 * read through the JDK's client. Not thread-safe: one test thread drives it.
 */
final class PrometheusProcess implements AutoCloseable {
    private static final Path BINARY = Path.of(System.getProperty("serverframework.prometheus", "/usr/bin/prometheus"));
    private static final Pattern VERSION = Pattern.compile("version (\\d+)\\.(\\d+)\\.");
    /** How often Prometheus scrapes, and its scrape time-out. */
    static final Duration SCRAPE_INTERVAL = Duration.ofSeconds(2);

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
        String out;
        try {
            out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            if (!p.waitFor(10, TimeUnit.SECONDS)) {
                throw new IllegalStateException(BINARY + " --version did not exit within 10 s: " + out);
            }
        } finally {
            // Whatever happened (a time-out, an interrupt, a failed read), no prometheus is left running.
            destroy(p);
        }
        Matcher m = VERSION.matcher(out);
        if (!m.find()) {
            throw new IllegalStateException("no version in: " + out);
        }
        int major = Integer.parseInt(m.group(1));
        int minor = Integer.parseInt(m.group(2));
        return major > 2 || major == 2 && minor >= 49;
    }

    /**
     * Starts Prometheus scraping {@code target} ({@code host:port}) at {@code path} every
     * {@link #SCRAPE_INTERVAL}, with {@code scrapeProtocol} (e.g. {@code OpenMetricsText1.0.0}) as the only
     * one it asks for, or its default Accept header when null, and waits until its API answers. On any
     * failure the process is stopped and the directory deleted before the exception goes on.
     */
    static PrometheusProcess start(String target, String path, String scrapeProtocol) throws IOException {
        Path dir = Files.createTempDirectory("prometheus-test");
        Process process = null;
        try {
            int port = RedisServerProcess.freePort();
            Path config = dir.resolve("prometheus.yml");
            Files.writeString(config, String.join("\n",
                    "global:",
                    "  scrape_interval: " + SCRAPE_INTERVAL.toSeconds() + "s",
                    // As long as the interval (its maximum): a cold first scrape on a loaded machine has time.
                    "  scrape_timeout: " + SCRAPE_INTERVAL.toSeconds() + "s",
                    "scrape_configs:",
                    "  - job_name: server-framework",
                    "    metrics_path: " + path,
                    scrapeProtocol == null ? "" : "    scrape_protocols: [" + scrapeProtocol + "]",
                    "    static_configs:",
                    "      - targets: ['" + target + "']",
                    ""));
            process = new ProcessBuilder(BINARY.toString(),
                    "--config.file=" + config,
                    "--storage.tsdb.path=" + dir.resolve("data"),
                    "--web.listen-address=127.0.0.1:" + port)
                    .redirectErrorStream(true).redirectOutput(dir.resolve("prometheus.log").toFile()).start();
            PrometheusProcess prometheus = new PrometheusProcess(dir, port, process);
            Process started = process;
            Await.until("prometheus answers on port " + port, Duration.ofSeconds(30),
                    () -> started.isAlive() && prometheus.ready());
            return prometheus;
        } catch (Throwable e) {
            if (e instanceof AssertionError) {
                e.addSuppressed(new AssertionError("prometheus' log: " + readLog(dir)));
            }
            if (process != null) {
                destroy(process);
            }
            deleteTree(dir, e);
            throw e;
        }
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
        return readLog(dir);
    }

    private static String readLog(Path dir) {
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
        destroy(process);
        deleteTree(dir, null);
    }

    /** Stops {@code p}: politely, then forcibly; keeps the thread's interrupt status. */
    private static void destroy(Process p) {
        p.destroy();
        try {
            if (!p.waitFor(10, TimeUnit.SECONDS)) {
                p.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
            }
        } catch (InterruptedException e) {
            p.destroyForcibly();
            Thread.currentThread().interrupt();
        }
    }

    /** Deletes {@code dir}; a failure is added to {@code pending} when there is one, else thrown. */
    private static void deleteTree(Path dir, Throwable pending) throws IOException {
        try (var files = Files.walk(dir)) {
            files.sorted(Comparator.reverseOrder()).map(Path::toFile).forEach(File::delete);
        } catch (IOException | RuntimeException e) {
            if (pending == null) {
                throw e;
            }
            pending.addSuppressed(e);
        }
    }
}
