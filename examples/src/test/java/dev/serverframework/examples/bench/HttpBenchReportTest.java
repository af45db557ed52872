package dev.serverframework.examples.bench;

import dev.serverframework.core.Server;
import dev.serverframework.http.HttpProtocol;
import dev.serverframework.http.Response;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@code report.html} of {@code bench http}: two runs against a real httpd in this JVM (so {@code --server-pid}
 * is this process), the second compared with the first; its sections checked in the HTML, and the page opened in
 * headless chromium at 1280 px: no horizontal scrolling, every chart drawn, no script error.
 */
class HttpBenchReportTest {
    @TempDir
    static Path dir;
    private static Server server;
    private static Report first;
    private static Report second;
    private static String html;

    @BeforeAll
    static void runTwice() throws Exception {
        HttpProtocol http = HttpProtocol.builder()
                .get("/", req -> Response.bytes("Hello World!".getBytes(StandardCharsets.US_ASCII), "text/plain"))
                .build();
        server = Server.builder().port(0).bindAddress("127.0.0.1").shutdownHook(false).protocol(http).build().start();
        first = bench("--label", "baseline", "--duration", "1500ms", "--out", dir.resolve("a").toString());
        second = bench("--label", "tuned", "--duration", "1200ms", "--out", dir.resolve("b").toString(),
                "--compare", dir.resolve("a/results.json").toString());
        html = Files.readString(dir.resolve("b/report.html"));
    }

    private static Report bench(String... more) throws Exception {
        HttpBenchCommand cmd = new HttpBenchCommand();
        List<String> args = new java.util.ArrayList<>(List.of("--target", "http://127.0.0.1:" + server.port() + "/",
                "--connections", "1,4", "--warmup", "200ms", "--expect-body", "Hello World!", "--no-progress",
                "--server-pid", Long.toString(ProcessHandle.current().pid())));
        args.addAll(List.of(more));
        new CommandLine(cmd).parseArgs(args.toArray(String[]::new));
        return cmd.execute();
    }

    @AfterAll
    static void stop() throws InterruptedException {
        if (server != null) {
            server.stop();
            server.awaitTermination();
        }
    }

    @Test
    void cellsCarryServerCpuAndEverySecondOfTheirWindow() {
        for (CellResult c : first.cells()) {
            assertTrue(c.serverCpuMs() >= 0 && c.serverCpuMsPer1000() >= 0, "server CPU known by its pid: " + c);
            // 1.5 s measured: a full second and a half one.
            assertEquals(2, c.perSecond().size(), c.perSecond().toString());
            long perSecondOk = Math.round(c.perSecond().get(0).rps() + c.perSecond().get(1).rps() * 0.5);
            assertTrue(Math.abs(perSecondOk - c.ok()) <= 2, "the seconds add up to the cell: " + c);
            assertTrue(c.perSecond().get(0).p99() >= c.perSecond().get(0).p50(), c.perSecond().toString());
        }
    }

    @Test
    void theReportHasItsSectionsAndBothLabels() {
        // The headline comes first: a keep-alive / close ratio for each concurrency and each run.
        int headline = html.indexOf("Keep-alive vs close: throughput ratio");
        assertTrue(headline > 0 && headline < html.indexOf("data-chart"), "the headline comes before the charts");
        Matcher ratios = Pattern.compile("<span class=\"ratio\">([0-9.]+)×</span>").matcher(html);
        int count = 0;
        while (ratios.find()) {
            count++;
            assertTrue(Double.parseDouble(ratios.group(1)) > 0, ratios.group());
        }
        assertEquals(4, count, "2 concurrency levels × 2 runs");
        assertTrue(html.contains("Server CPU per 1,000 requests") && html.contains("data-chart=\"cpu\""), "CPU chart");
        assertTrue(html.contains("server CPU ms / 1k req"), "CPU per request in the table");
        assertTrue(html.contains("Second by second"), "per-second section");
        assertEquals(4, count(html, "data-chart=\"timeline\""), "one per-second chart per cell");
        assertTrue(html.contains("\"p99\" : [") && html.contains("\"t\" : [ 0.0, 1.0 ]"), "per-second series");
        for (String env : List.of("<h2>Environment</h2>", "host cores", "CPU", "OS, kernel", "JVM flags",
                "bench command", "--label tuned")) {
            assertTrue(html.contains(env), "environment shows " + env);
        }
        // Each series under its own label, never old/new.
        assertTrue(html.contains("<td class=\"l\">baseline</td>") && html.contains("<td class=\"l\">tuned</td>"));
        assertFalse(html.contains(">old<") || html.contains(">new<") || html.contains("(old)"));
        assertTrue(html.contains("<td class=\"l\">0</td>"), "a compact errors column: 0");
        assertFalse(html.contains("cdn") || html.contains("src=\"http"), "no network: uPlot is inlined");
        assertEquals("tuned", second.label());
        assertEquals(List.of("baseline"), second.compared().stream().map(Report::label).toList());
    }

    @Test
    void theReportRendersAt1280PxWithChartsAndNoHorizontalScroll() throws Exception {
        try (ReportBrowser browser = ReportBrowser.open(dir.resolve("b/report.html"), 1280, 900)) {
            assertEquals(List.of(), browser.script("return window.__errors;"), "no script errors");
            assertEquals(true, browser.script(
                    "return document.documentElement.scrollWidth <= document.documentElement.clientWidth;"),
                    "no horizontal scrolling at 1280 px: " + browser.script(
                            "return document.documentElement.scrollWidth;"));
            // 3 charts by concurrency + 4 per-second charts, each a canvas with a size.
            assertEquals("7", browser.script("return document.body.dataset.charts;"));
            @SuppressWarnings("unchecked")
            List<List<Long>> canvases = (List<List<Long>>) browser.script("return Array.from("
                    + "document.querySelectorAll('.uplot canvas'), c => [c.width, c.height]);");
            assertEquals(7, canvases.size());
            for (List<Long> wh : canvases) {
                assertTrue(wh.get(0) > 200 && wh.get(1) > 100, "a canvas with a size: " + wh);
            }
            Path png = Path.of("target", "i14-report.png");
            browser.screenshotWholePage(png);
            assertTrue(Files.size(png) > 10_000, "a screenshot with content");
        }
    }

    private static int count(String text, String part) {
        int n = 0;
        for (int i = text.indexOf(part); i >= 0; i = text.indexOf(part, i + 1)) {
            n++;
        }
        return n;
    }
}
