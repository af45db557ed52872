package dev.serverframework.metrics;

import dev.serverframework.core.Server;
import dev.serverframework.http.HttpProtocol;
import dev.serverframework.http.Response;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.openqa.selenium.By;
import org.openqa.selenium.Dimension;
import org.openqa.selenium.JavascriptExecutor;
import org.openqa.selenium.OutputType;
import org.openqa.selenium.TakesScreenshot;
import org.openqa.selenium.WebDriver;
import org.openqa.selenium.WebElement;
import org.openqa.selenium.chrome.ChromeDriver;
import org.openqa.selenium.chrome.ChromeDriverService;
import org.openqa.selenium.chrome.ChromeOptions;
import org.openqa.selenium.interactions.Actions;
import org.openqa.selenium.logging.LogEntry;
import org.openqa.selenium.logging.LogType;
import org.openqa.selenium.logging.LoggingPreferences;
import org.openqa.selenium.support.ui.WebDriverWait;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.logging.Level;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.BooleanSupplier;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * End to end: the dashboard in Debian's headless chromium (through chromedriver and Selenium) against a
 * live server under a little load shows non-zero data in every chart, its charts span their card from the
 * first seconds, no label is cut, counts are whole numbers, no script fails, it fits a phone-sized window,
 * and it says so when the server stops answering. {@code .ci/run} installs chromium and chromium-driver.
 */
class DashboardBrowserTest {
    private static final Path CHROMIUM = Path.of("/usr/bin/chromium");
    private static final Path CHROMEDRIVER = Path.of("/usr/bin/chromedriver");
    /** Screenshots, for a person to look at. */
    private static final Path SHOTS = Path.of("target", "dashboard-screenshots");
    private static final List<String> CHARTS = List.of("c-rps", "c-latency", "c-conns", "c-bytes", "c-heap");
    /** Elements, in the cards and the header, whose content is wider than their box: cut or spilling. */
    private static final String CLIPPED = "var out=[];document.querySelectorAll('header *, .card *').forEach(function(e){"
            + "if(e.clientWidth>0&&e.scrollWidth>e.clientWidth)out.push((e.id||e.className||e.tagName)+':'+e.textContent"
            + "+' '+e.scrollWidth+'>'+e.clientWidth);});return out.join('; ');";

    private final PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    private final AtomicBoolean loading = new AtomicBoolean(true);
    private final AtomicLong answered = new AtomicLong();
    private Server server;
    private ServerMetrics metrics;
    private Thread load;
    private ChromeDriverService service;
    private WebDriver driver;
    /** The browser's profile and temporary files (TMPDIR of chromedriver and chromium), deleted after each test. */
    private Path scratch;

    @BeforeEach
    void start() throws Exception {
        assumeTrue(Files.isExecutable(CHROMIUM) && Files.isExecutable(CHROMEDRIVER),
                "needs Debian's chromium and chromium-driver (apt-get install chromium chromium-driver)");
        HttpProtocol.Builder http = HttpProtocol.builder()
                .get("/", req -> Response.text("Hello World!"))
                .get("/items/{id}", req -> Response.json("{\"id\":\"" + req.pathParam("id") + "\"}"));
        MetricsRoutes.install(http, registry);
        server = Server.builder().port(0).bindAddress("127.0.0.1").shutdownHook(false).workers(2).ioThreads(1)
                .shutdownGrace(Duration.ofSeconds(1)).protocol(http.build()).build().start();
        metrics = ServerMetrics.bind(server, registry);

        // A little load, bounded in time: a few requests a millisecond at most, for 40 s at most.
        int port = server.port();
        load = new Thread(() -> {
            HttpClient client = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(40);
            int i = 0;
            while (loading.get() && System.nanoTime() < deadline) {
                String path = i++ % 2 == 0 ? "/" : "/items/" + i;
                try {
                    client.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path))
                            .timeout(Duration.ofSeconds(2)).build(), HttpResponse.BodyHandlers.discarding());
                    answered.incrementAndGet();
                } catch (Exception e) {
                    if (e instanceof InterruptedException) {
                        return;
                    }
                }
            }
        }, "dashboard-load");
        load.setDaemon(true);
        load.start();

        scratch = Files.createTempDirectory("dashboard-browser");
        Path profile = Files.createDirectory(scratch.resolve("profile"));
        Path tmp = Files.createDirectory(scratch.resolve("tmp"));
        ChromeOptions options = new ChromeOptions();
        options.setBinary(CHROMIUM.toFile());
        options.addArguments("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                "--disable-background-networking", "--disable-component-update", "--disable-sync",
                "--disable-dev-shm-usage", "--user-data-dir=" + profile, "--window-size=1280,900");
        LoggingPreferences logs = new LoggingPreferences();
        logs.enable(LogType.BROWSER, Level.ALL);
        options.setCapability("goog:loggingPrefs", logs);
        service = new ChromeDriverService.Builder().usingDriverExecutable(CHROMEDRIVER.toFile()).usingAnyFreePort()
                .withEnvironment(Map.of("TMPDIR", tmp.toString())).build();
        driver = new ChromeDriver(service, options);
    }

    /**
     * Every step runs whatever the others did (JUnit runs this also when {@link #start()} failed half way):
     * the browser and its driver end, any of their processes still alive is killed, the scratch directory
     * goes. The first failure is thrown at the end, with the others suppressed.
     */
    @AfterEach
    void stop() throws Exception {
        loading.set(false);
        List<Exception> failures = new ArrayList<>();
        step(failures, () -> {
            if (driver != null) {
                driver.quit();
            }
        });
        step(failures, () -> {
            if (service != null) {
                service.stop(); // also when the driver never started a session
            }
        });
        step(failures, DashboardBrowserTest::killBrowserProcesses);
        step(failures, () -> {
            if (load != null) {
                load.interrupt();
                load.join(5000);
            }
        });
        step(failures, () -> {
            if (metrics != null) {
                metrics.close();
            }
        });
        step(failures, () -> {
            if (server != null) {
                server.stop();
                server.awaitTermination();
            }
        });
        step(failures, registry::close);
        step(failures, () -> {
            if (scratch != null) {
                try (var files = Files.walk(scratch)) {
                    files.sorted(Comparator.reverseOrder()).forEach(f -> f.toFile().delete());
                }
                if (Files.exists(scratch)) {
                    throw new IllegalStateException("could not delete " + scratch);
                }
            }
        });
        if (!failures.isEmpty()) {
            Exception first = failures.get(0);
            failures.subList(1, failures.size()).forEach(first::addSuppressed);
            throw first;
        }
    }

    private interface Step {
        void run() throws Exception;
    }

    private static void step(List<Exception> failures, Step step) {
        try {
            step.run();
        } catch (Exception e) {
            failures.add(e);
        }
    }

    /** This JVM's chromedriver and chromium processes that quitting left behind (none, normally). */
    private static void killBrowserProcesses() throws InterruptedException {
        List<ProcessHandle> left = ProcessHandle.current().descendants()
                .filter(p -> p.info().command().map(c -> c.contains("chromedriver") || c.contains("chromium")).orElse(false))
                .toList();
        left.forEach(ProcessHandle::destroyForcibly);
        for (ProcessHandle p : left) {
            try {
                p.onExit().get(5, TimeUnit.SECONDS);
            } catch (java.util.concurrent.ExecutionException | java.util.concurrent.TimeoutException e) {
                // Reported below if it is still alive.
            }
        }
        List<ProcessHandle> alive = left.stream().filter(ProcessHandle::isAlive).toList();
        if (!alive.isEmpty()) {
            throw new IllegalStateException("browser processes still alive: " + alive);
        }
    }

    /** A screenshot into {@link #SHOTS}, as bytes: Selenium's FILE output would leave a temporary file. */
    private void screenshot(String name) throws IOException {
        Files.write(SHOTS.resolve(name), ((TakesScreenshot) driver).getScreenshotAs(OutputType.BYTES));
    }

    private double value(String id) {
        String v = driver.findElement(By.id(id)).getAttribute("data-value");
        return v == null ? 0 : Double.parseDouble(v);
    }

    private String attribute(String id, String name) {
        String v = driver.findElement(By.id(id)).getAttribute(name);
        return v == null ? "0" : v;
    }

    private Object js(String script, Object... args) {
        return ((JavascriptExecutor) driver).executeScript(script, args);
    }

    private void waitFor(String what, BooleanSupplier condition) {
        new WebDriverWait(driver, Duration.ofSeconds(15)).withMessage(what).until(d -> condition.getAsBoolean());
    }

    @Test
    void chartsShowLiveNonZeroDataAndTheBannerWhenTheServerStops() throws Exception {
        driver.get("http://127.0.0.1:" + server.port() + "/dashboard");
        assertEquals("server-framework dashboard", driver.getTitle());

        // Rates need two samples a second apart; then every chart has real numbers.
        waitFor("requests per second > 0", () -> value("v-rps") > 0);
        waitFor("latency p50 and p99 > 0", () -> value("v-p50") > 0 && value("v-p99") > 0);
        waitFor("open connections > 0", () -> value("v-conns") > 0);
        waitFor("bytes in and out per second > 0", () -> value("v-in") > 0 && value("v-out") > 0);
        waitFor("worker tasks per second > 0", () -> value("v-tasks") > 0);
        assertTrue(value("v-heap") > 0, "heap used");
        assertTrue(value("v-p99") >= value("v-p50"), "p99 >= p50");
        assertTrue(value("v-p50") < 5, "p50 is in seconds and plausible: " + value("v-p50"));
        String legend = driver.findElement(By.id("l-conns")).getText();
        assertTrue(legend.contains("http"), "connections by service: " + legend);
        assertEquals("live", driver.findElement(By.id("status")).getText());
        assertTrue(answered.get() > 0);
        // From the first seconds, every chart spans its card: the plot fills the card's width and its line
        // runs from the first sample at the left edge to the newest at the right edge.
        new WebDriverWait(driver, Duration.ofSeconds(15))
                .withMessage(() -> "three samples on every chart: " + CHARTS.stream()
                        .map(id -> id + " " + attribute(id, "data-points")).toList() + ", console: "
                        + driver.manage().logs().get(LogType.BROWSER).getAll())
                .until(d -> CHARTS.stream().allMatch(id -> Integer.parseInt(attribute(id, "data-points")) >= 3));
        for (String id : CHARTS) {
            double first = Double.parseDouble(attribute(id, "data-first"));
            double last = Double.parseDouble(attribute(id, "data-last"));
            assertTrue(first <= 0.01 && last >= 0.99, id + ": samples span " + first + " to " + last + " of the plot");
            double share = ((Number) js("var c=document.getElementById(arguments[0]),"
                    + "o=c.querySelector('.u-over').getBoundingClientRect(),k=c.closest('.card');"
                    + "return o.width/(k.clientWidth-24);", id)).doubleValue();
            assertTrue(share >= 0.75, id + ": the plot takes " + share + " of its card's width");
        }
        // Labels fit, counts are whole numbers.
        assertEquals("", js(CLIPPED), "cut labels");
        assertTrue(js("return document.getElementById('v-conns').firstChild.nodeValue;").toString()
                .matches("[0-9][0-9,]*"), "open connections are a whole number");
        for (WebElement item : driver.findElements(By.cssSelector("#l-conns span"))) {
            assertTrue(item.getText().matches("\\S+ [0-9][0-9,]*"), "connections of a service: " + item.getText());
        }
        List<WebElement> bars = driver.findElements(By.cssSelector("#c-queues .bar"));
        assertEquals(2, bars.size(), "a bar per worker");
        for (WebElement bar : bars) {
            assertTrue(bar.getText().matches("[0-9]+[kM]?\\s+w[0-9]+"), "a worker's bar: " + bar.getText());
        }
        // Hovering a chart shows the values at that time.
        WebElement rps = driver.findElement(By.cssSelector("#c-rps .u-over"));
        new Actions(driver).moveToElement(rps, rps.getSize().getWidth() / 2 - 10, 0).perform();
        WebElement tip = driver.findElement(By.cssSelector("#c-rps .tip"));
        waitFor("the requests chart's tooltip", tip::isDisplayed);
        assertTrue(tip.getText().contains("req/s"), tip.getText());
        List<LogEntry> errors = driver.manage().logs().get(LogType.BROWSER).getAll().stream()
                .filter(e -> e.getLevel().intValue() >= Level.WARNING.intValue()).toList();
        assertEquals(List.of(), errors, "the console's warnings and errors");

        Files.createDirectories(SHOTS);
        screenshot("dashboard.png");

        // A phone-sized window: one column, nothing wider than the screen.
        driver.manage().window().setSize(new Dimension(390, 844));
        waitFor("layout fits a phone", () -> ((Number) ((JavascriptExecutor) driver).executeScript(
                "return document.documentElement.scrollWidth - window.innerWidth;")).longValue() <= 0);
        screenshot("dashboard-phone.png");

        // The server goes away: the page says so.
        loading.set(false);
        load.join(5000);
        metrics.close();
        server.stop();
        server.awaitTermination();
        waitFor("the not-answering banner", () -> driver.findElement(By.id("banner")).isDisplayed());
        assertTrue(driver.findElement(By.id("banner")).getText().contains("not answering"));
        assertEquals("not answering", driver.findElement(By.id("status")).getText());
        screenshot("dashboard-down.png");
    }
}
