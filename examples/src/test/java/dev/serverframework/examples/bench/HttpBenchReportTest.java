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
import java.util.Map;
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
        // The first run twice (the same label: made unique) and a results.json of the earlier writer.
        second = bench("--label", "tuned", "--duration", "1200ms", "--out", dir.resolve("b").toString(),
                "--compare", dir.resolve("a/results.json").toString(), "--compare", dir.resolve("a/results.json")
                        .toString(), "--compare", oldFormat().toString());
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

    /** A results.json as the writer before Jackson wrote it: no label, errors keyed by label, no server CPU. */
    private static Path oldFormat() throws Exception {
        return Path.of(HttpBenchReportTest.class.getResource("old-results.json").toURI());
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
        int cores = Runtime.getRuntime().availableProcessors();
        for (CellResult c : first.cells()) {
            assertTrue(c.serverCpuMs() != null && c.serverCpuMs() >= 0 && c.serverCpuMsPer1000() != null,
                    "server CPU known by its pid: " + c);
            // This JVM cannot have used more than all its cores for the window (plus the 10 ms tick).
            assertTrue(c.serverCpuMs() <= (c.seconds() + 0.05) * cores * 1000, "server CPU within the window: " + c);
            // Responses completed in the window include those to requests sent just before it.
            assertTrue(c.completed() != null && c.completed() >= c.ok() && c.completed() <= c.ok() + c.connections(),
                    c.toString());
            // 1.5 s measured: a full second and a half one, bounded by when they were taken.
            assertEquals(2, c.perSecond().size(), c.perSecond().toString());
            CellResult.Second s0 = c.perSecond().get(0);
            CellResult.Second s1 = c.perSecond().get(1);
            assertEquals(0.0, s0.t());
            assertEquals(s0.seconds(), s1.t(), 0.001, "the second interval starts where the first ended");
            assertEquals(c.seconds(), s0.seconds() + s1.seconds(), 1e-6, "the intervals cover the window");
            long perSecondOk = Math.round(s0.rps() * s0.seconds() + s1.rps() * s1.seconds());
            assertEquals(c.ok(), perSecondOk, "the intervals add up to the cell: " + c);
            assertTrue(s0.p99() >= s0.p50(), c.perSecond().toString());
        }
    }

    @Test
    void theReportHasItsSectionsAndBothLabels() throws Exception {
        // The headline comes first: a keep-alive / close ratio for each concurrency and each run.
        int headline = html.indexOf("Keep-alive vs close: throughput ratio");
        assertTrue(headline > 0 && headline < html.indexOf("data-chart"), "the headline comes before the charts");
        Matcher ratios = Pattern.compile("<span class=\"ratio\">([0-9.]+)×</span>").matcher(html);
        int count = 0;
        while (ratios.find()) {
            count++;
            assertTrue(Double.parseDouble(ratios.group(1)) > 0, ratios.group());
        }
        assertEquals(8, count, "2 concurrency levels × 4 runs");
        assertTrue(html.contains("Server CPU per 1,000 requests") && html.contains("data-chart=\"cpu\""), "CPU chart");
        assertTrue(html.contains("server CPU ms / 1k req"), "CPU per request in the table");
        assertTrue(html.contains("Second by second"), "per-second section");
        assertEquals(4, count(html, "data-chart=\"timeline\""), "one per-second chart per cell");
        assertTrue(html.contains("\"p99\" : [") && Pattern.compile("\"t\" : \\[ 0\\.0, 1\\.\\d+ \\]").matcher(html).find(),
                "per-second series");
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
        assertEquals(List.of("baseline", "baseline (a/results.json)", "bench/old-results.json"),
                second.compared().stream().map(Report::label).toList(), "unique labels");
        // Compared runs that are not like for like are said to be so, in the table and in the report.
        assertTrue(second.warnings().contains("compared run baseline differs from tuned: duration 1.5 s vs 1.2 s: "
                + "its figures are not like for like."), second.warnings().toString());
        String oldLabel = "bench/old-results.json";
        assertTrue(second.warnings().stream().anyMatch(w -> w.startsWith("compared run " + oldLabel)
                && w.contains("duration 10.0 s vs 1.2 s")), second.warnings().toString());
        // Another target is what --compare is for (one server against another): no warning of its own.
        assertTrue(second.warnings().stream().noneMatch(w -> w.contains("target")), second.warnings().toString());
        assertTrue(second.table().contains("WARNING: compared run baseline differs"), second.table());
        assertTrue(html.contains("<li class=\"warn\">compared run baseline differs"));
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
            // (The old-format run compared has no server CPU: its points are left out, nothing fails.)
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

    @Test
    void aResultsJsonOfTheEarlierWriterReads() throws Exception {
        Report old = Report.read(oldFormat());
        assertEquals("bench/old-results.json", old.label(), "no label in the file: named after it");
        assertEquals("unknown", old.environment().server());
        assertEquals("unknown", old.environment().date());
        assertEquals(4, old.cells().size());
        CellResult ka4 = Report.find(old.cells(), "keepalive", 4);
        // Errors keyed by label ("reset": 3) read; the kinds at 0 are left out.
        assertEquals(java.util.Map.of(ErrorKind.RESET, 3L, ErrorKind.BAD_STATUS, 2L), ka4.errors());
        assertEquals(java.util.Map.of(ErrorKind.CONNECT_REFUSED, 1L), Report.find(old.cells(), "close", 4).errors());
        assertEquals(null, ka4.serverCpuMs(), "no server CPU in the file: unknown, not 0");
        assertEquals(null, ka4.serverCpuMsPer1000());
        assertEquals("-", ka4.serverCpuText(2));
        assertEquals(List.of(), ka4.perSecond());
        // Rendered as a compared run: no NPE, "-" for its CPU, no CPU ratio from an unknown.
        Report withOld = new Report("now", first.target(), first.startedAt(), first.warmupSeconds(),
                first.durationSeconds(), 0, 1, 1, 1, first.environment(), first.cells(), List.of(), List.of(old));
        String page = withOld.toHtml();
        assertTrue(page.contains("<td class=\"l\">" + HtmlReport.esc(old.label()) + "</td><td class=\"l\">keepalive"
                + "</td><td>4</td>"), "the old run's rows");
        Matcher oldRow = Pattern.compile("<tr><td class=\"l\"><b>" + Pattern.quote(HtmlReport.esc(old.label()))
                + "</b></td>(.*?)</tr>").matcher(page);
        assertTrue(oldRow.find(), "the old run in the headline");
        assertFalse(oldRow.group(1).contains("close costs"), "no CPU ratio from an unknown: " + oldRow.group(1));
        assertTrue(withOld.table().contains("(" + old.label() + ")"), withOld.table());
        // Written again, errors are keyed by name, and read back the same.
        Path again = dir.resolve("again.json");
        Files.writeString(again, old.toJson());
        assertTrue(Files.readString(again).contains("\"RESET\" : 3"), Files.readString(again));
        assertEquals(old.cells(), Report.read(again).cells());
    }

    @Test
    void aFileThatIsNotAResultsJsonIsSaidToBeSo() throws Exception {
        Path noCells = dir.resolve("no-cells.json");
        Files.writeString(noCells, "{\"tool\": \"server-framework bench http\", \"label\": \"x\"}");
        IllegalArgumentException e = org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class,
                () -> Report.read(noCells));
        assertEquals(noCells + " is not a bench http results.json", e.getMessage());
        Path badKind = dir.resolve("bad-kind.json");
        Files.writeString(badKind, "{\"tool\": \"server-framework bench http\", \"cells\": [{\"mode\": \"close\", "
                + "\"connections\": 1, \"errors\": {\"gremlins\": 1}}]}");
        e = org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class, () -> Report.read(badKind));
        assertTrue(e.getMessage().startsWith("cannot read " + badKind + " as a bench http results.json"),
                e.getMessage());
        // Fields a file lacks (an environment with nulls, no startedAt) are "unknown", not a failure later.
        Path sparse = dir.resolve("sparse.json");
        Files.writeString(sparse, "{\"tool\": \"server-framework bench http\", \"environment\": {\"os\": null}, "
                + "\"cells\": [{\"mode\": \"close\", \"connections\": 1, \"serverCpuMs\": -1}]}");
        Report r = Report.read(sparse);
        assertEquals("unknown", r.environment().os());
        assertEquals("unknown", r.startedAt());
        assertEquals(null, r.cells().get(0).serverCpuMs(), "-1 as older files wrote it: unknown");
        new Report("now", "t", "s", 0, 1, 0, 1, 1, 1, null, first.cells(), null, List.of(r)).toHtml();
    }

    @Test
    void serverCpuPerRequestCountsEveryResponseAndFlagsFewTicks() {
        CellResult allWrongStatus = cell(0, Map.of(ErrorKind.BAD_STATUS, 4000L), 2000.0);
        assertEquals(500.0, allWrongStatus.serverCpuMsPer1000(), 1e-9, "a 404 is work the server did");
        assertEquals("500.00", allWrongStatus.serverCpuText(2));
        assertEquals(null, cell(0, Map.of(ErrorKind.TIMEOUT, 5L), 2000.0).serverCpuMsPer1000(),
                "timeouts are not responses: nothing to divide by");
        CellResult fewTicks = cell(3000, Map.of(), 40.0);
        assertTrue(fewTicks.serverCpuImprecise());
        assertEquals("~13", fewTicks.serverCpuText(2), "4 ticks: two significant digits, marked imprecise");
        assertEquals(null, cell(1000, Map.of(), null).serverCpuMsPer1000());
        // Counted by the run: every response that completed in the window, whenever its request was sent.
        CellResult counted = new CellResult("close", 256, 1, 900, Map.of(ErrorKind.BAD_STATUS, 50L), 1, 1, 1, 1, 1,
                1, 0, 0, 0, 0, 0.1, 0.1, null, 2000.0, 1200L, List.of());
        assertEquals(1200, counted.responses());
        assertEquals(2000.0 * 1000 / 1200, counted.serverCpuMsPer1000(), 1e-9);
    }

    @Test
    void anIntervalIsMeasuredOverItsRealLengthAndAnEmptyOneHasNoLatency() {
        org.HdrHistogram.Histogram h = new org.HdrHistogram.Histogram(3);
        for (int i = 0; i < 250; i++) {
            h.recordValue(1000); // 1 µs, exact in the histogram
        }
        // Taken 2.5 s after the previous one (a late wake-up): 100/s over 2.5 s, not 250 in "a second".
        CellResult.Second late = new LoadCell.Interval(1_000_000_000L, 3_500_000_000L, h, 10).second(0, 15);
        assertEquals(1.0, late.t());
        assertEquals(2.5, late.seconds(), 1e-9);
        assertEquals(100.0, late.rps(), 1e-9);
        assertEquals(2.0, late.eps(), 1e-9, "errors per second on the same basis");
        assertEquals(1.0, late.p50(), 1e-9);
        CellResult.Second empty = new LoadCell.Interval(0, 1_000_000_000L, new org.HdrHistogram.Histogram(3), 0)
                .second(0, 3);
        assertEquals(0.0, empty.rps());
        assertEquals(null, empty.p50(), "no response: no latency, not 0 ms");
        assertEquals(null, empty.p99());
        CellResult c = new CellResult("keepalive", 1, 2, 250, Map.of(), 1000, 1000, 1000, 1000, 1000, 1000, 0, 0, 0,
                0, 0.1, 0.1, null, null, null, List.of(empty, late));
        Report r = new Report("r", "t", "s", 0, 2, 0, 1, 1, 1, null, List.of(c), null, null);
        String data = ReportCharts.data(r).toString();
        assertTrue(data.contains("\"p50\":[null,0.001]") && data.contains("\"eps\":[3.0,2.0]"), data);
        assertTrue(r.toHtml().contains("spanGaps: false"), "uPlot leaves the gap");
    }

    @Test
    void aLabelIsEscapedAndThePageStillWorks() throws Exception {
        String label = "x</script><script>window.__pwned=1</script>\"q'&<b>";
        CellResult ka = cell(1000, Map.of(), 1200.0);
        CellResult close = new CellResult("close", 1, 1, 500, Map.of(), 900, 950, 1000, 1100, 1200, 950, 500, 80,
                90, 100, 0.2, 0.1, null, 1500.0, 500L, List.of());
        Report r = new Report(label, "http://127.0.0.1:1/?a=\"</script>", "2026-01-01T00:00:00Z", 0, 1, 0, 1, 1, 1,
                null, List.of(ka, close), List.of("warning with " + label), null);
        String page = r.toHtml();
        assertFalse(page.contains(label), "never raw");
        assertFalse(page.contains("__pwned=1</script>"), "no script of the label's");
        assertTrue(page.contains("<title>bench http: " + HtmlReport.esc(label) + "</title>"), "escaped in the title");
        assertTrue(page.contains("x\\u003c/script>\\u003cscript>"), "escaped in the JSON data");
        assertEquals(count(page, "<script"), count(page, "</script>"), "every script element closed where it should");
        Path file = dir.resolve("escaped.html");
        Files.writeString(file, page);
        try (ReportBrowser browser = ReportBrowser.open(file, 1280, 900)) {
            assertEquals(List.of(), browser.script("return window.__errors;"), "no script errors");
            assertEquals(null, browser.script("return window.__pwned;"), "the label's script never ran");
            assertEquals("bench http: " + label, browser.script("return document.title;"));
            assertEquals(label, browser.script("return JSON.parse(document.getElementById('report-data')"
                    + ".textContent).series[0].label;"));
            assertEquals("5", browser.script("return document.body.dataset.charts;"), "3 by level + 2 per cell");
        }
    }

    private static CellResult cell(long ok, Map<ErrorKind, Long> errors, Double serverCpuMs) {
        return new CellResult("keepalive", 1, 1, ok, errors, 100, 110, 120, 130, 140, 105, 0, 0, 0, 0, 0.1, 0.05,
                null, serverCpuMs, null, List.of());
    }

    private static int count(String text, String part) {
        int n = 0;
        for (int i = text.indexOf(part); i >= 0; i = text.indexOf(part, i + 1)) {
            n++;
        }
        return n;
    }
}
