package dev.serverframework.examples.bench;

import com.fasterxml.jackson.databind.JsonNode;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@code bench connections} against a local httpd with {@code /metrics}: every connection is opened, held and
 * still answers, the latency sample and per-connection figures are there, results.json parses; connections
 * the server closes are reported; too low open-file limits give a message saying what to change.
 */
class ConnectionsBenchTest {
    private MeteredHttpd httpd;

    @AfterEach
    void stop() throws InterruptedException {
        if (httpd != null) {
            httpd.close();
        }
    }

    private String startHttpd(Duration idleTimeout) {
        httpd = new MeteredHttpd(idleTimeout, http -> { });
        return httpd.target();
    }

    private static ConnectionsBenchCommand command(String... args) {
        ConnectionsBenchCommand cmd = new ConnectionsBenchCommand();
        new CommandLine(cmd).parseArgs(args);
        return cmd;
    }

    /** 200 connections over 2 load processes: all held, sampled, measured, and written to results.json. */
    @Test
    void holdsAllConnectionsOverTwoProcessesAndMeasuresThem(@TempDir Path out) throws Exception {
        String target = startHttpd(Duration.ZERO);
        ConnectionsBenchCommand cmd = command("--target", target, "--count", "200", "--per-process", "100",
                "--source-addresses", "4", "--sample", "100", "--hold", "200ms",
                "--server-pid", Long.toString(ProcessHandle.current().pid()), "--out", out.toString());
        ConnectionsResult r = cmd.execute();

        assertEquals(2, r.processes());
        assertEquals(200, r.opened(), "first error: " + r.firstError());
        assertEquals(0, r.openFailed());
        assertEquals(0, r.closedByServer());
        assertEquals(0, r.sampleErrors());
        assertEquals(200, r.probedOk(), "every held connection answers the final probe");
        assertEquals(100, r.latenciesMicros().length);
        assertTrue(r.percentile(50) > 0 && r.percentile(99) >= r.percentile(50));
        // The server saw all of them at once (its own gauge, read while they were held).
        assertTrue(r.after().connectionsOpen() >= 200, "server_connections_open " + r.after().connectionsOpen());
        assertTrue(r.after().heapBytes() > 0 && r.before().heapBytes() > 0);
        assertTrue(Double.isFinite(r.heapPerConnection()));
        // No sign is asserted for the heap difference: this server shares the test's JVM, whose garbage
        // comes and goes, and Micrometer counts a GC only when its notification arrives, a moment later.
        if (r.gcBetween()) {
            assertTrue(r.notes().stream().anyMatch(n -> n.contains("GC")), "a GC between readings is said");
        }
        assertTrue(Double.isFinite(r.rssPerConnection()) && r.after().rssBytes() > 0);

        JsonNode json = BenchJson.parse(Files.readString(out.resolve("results.json")));
        assertEquals(200, json.path("opened").asInt(), json::toString);
        assertEquals(200, json.path("probedOk").asInt(), json::toString);
        assertTrue(json.path("p99Ms").isNumber(), json::toString);
        assertTrue(json.path("heapPerConnectionBytes").isNumber(), json::toString);
        assertTrue(r.table().contains("heap per connection"));
        assertTrue(json.path("environment").path("cores").asInt() > 0, json::toString);

        // report.html beside results.json: the figures, the latency curve, the environment; it draws in chromium.
        String html = Files.readString(out.resolve("report.html"));
        for (String part : List.of("<table id=\"figures\">", "heap per connection", "RSS per connection",
                "<div id=\"latency\">", "<h2>Environment</h2>", "bench connections --target")) {
            assertTrue(html.contains(part), "report.html shows " + part);
        }
        try (ReportBrowser browser = ReportBrowser.open(out.resolve("report.html"), 1280, 900)) {
            assertEquals(List.of(), browser.script("return window.__errors;"), "no script errors");
            assertEquals("1", browser.script("return document.body.dataset.charts;"), "the latency curve drew");
            assertEquals(true, browser.script(
                    "return document.documentElement.scrollWidth <= document.documentElement.clientWidth;"));
        }
    }

    /** A server whose idle timeout is shorter than the hold closes the connections: each is reported closed. */
    @Test
    void connectionsClosedByTheServerDuringTheHoldAreCounted(@TempDir Path out) throws Exception {
        String target = startHttpd(Duration.ofMillis(200));
        ConnectionsBenchCommand cmd = command("--target", target, "--count", "50", "--sample", "20",
                "--hold", "1500ms", "--out", out.toString());
        ConnectionsResult r = cmd.execute();

        assertEquals(50, r.opened());
        assertEquals(50, r.closedByServer());
        assertEquals(0, r.probedOk());
        assertTrue(r.notes().stream().anyMatch(n -> n.contains("--idle-timeout 0")), String.valueOf(r.notes()));
        // No --server-pid: the metrics give the heap but not the resident memory, and the report says how to get it.
        assertTrue(Double.isNaN(r.rssPerConnection()));
        assertTrue(r.notes().stream().anyMatch(n -> n.contains("pass --server-pid PID")), String.valueOf(r.notes()));
        assertTrue(Files.readString(out.resolve("report.html")).contains("pass --server-pid PID"));
    }

    /** More connections than a (fake, low) open-file limit allows one server process: says what to change. */
    @Test
    void tooHighCountForTheOpenFileLimitSaysWhatToChange() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> ConnectionsPlan.of(
                5000, 0, new OpenFileLimits(1024, 4096), null, true, 8, 28_232));
        assertTrue(e.getMessage().contains("--count 5000 is too high"), e.getMessage());
        assertTrue(e.getMessage().contains("ulimit -Hn 6000"), e.getMessage());
        assertTrue(e.getMessage().contains("LimitNOFILE=6000"), e.getMessage());
        assertTrue(e.getMessage().contains("lower --count to 3096"), e.getMessage());
    }

    /** Within the limit, the load is split over as many processes as each one's limit allows. */
    @Test
    void loadIsSplitOverProcessesByTheOpenFileLimit() {
        ConnectionsPlan p = ConnectionsPlan.of(15_000, 0, new OpenFileLimits(20_000, 20_000), null, true, 8, 28_232);
        assertEquals(1, p.processes());
        p = ConnectionsPlan.of(15_000, 0, new OpenFileLimits(4096, 8192), 20_000L, true, 8, 28_232);
        assertEquals(3, p.processes());
        assertEquals(7192, p.perProcess());
        assertTrue(p.notes().stream().anyMatch(n -> n.contains("ulimit -n 8192")), String.valueOf(p.notes()));
    }

    /** The command itself checks the injected limit up front, before opening anything. */
    @Test
    void theCommandChecksItsOwnLimitBeforeOpening(@TempDir Path out) {
        String target = startHttpd(Duration.ZERO);
        ConnectionsBenchCommand cmd = command("--target", target, "--count", "200", "--out", out.toString());
        cmd.limits = new OpenFileLimits(500, 800);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, cmd::execute);
        assertTrue(e.getMessage().contains("soft 500, hard 800") && e.getMessage().contains("ulimit"),
                e.getMessage());
        assertTrue(httpd.server().statistics().accepted() <= 1, "only the /metrics scrape connected");
    }
}
