package dev.serverframework.examples;

import org.junit.jupiter.api.Assumptions;
import org.openqa.selenium.By;
import org.openqa.selenium.Keys;
import org.openqa.selenium.chrome.ChromeDriver;
import org.openqa.selenium.chrome.ChromeDriverService;
import org.openqa.selenium.chrome.ChromeOptions;
import org.openqa.selenium.support.ui.WebDriverWait;

import java.io.File;
import java.io.IOException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.function.Predicate;

/**
 * One browser session on the chat page: Debian's headless chromium driven through chromedriver, with a
 * profile of its own, so that two sessions are two users. The page's state is read from what it shows:
 * the lines of {@code #messages}, {@code #me}, and the {@code data-state} and {@code data-transport} of its
 * body. {@code .ci/run} installs chromium and chromium-driver; without them the test is skipped, saying why.
 */
final class ChatBrowser implements AutoCloseable {
    private static final Path CHROMIUM = Path.of("/usr/bin/chromium");
    private static final Path CHROMEDRIVER = Path.of("/usr/bin/chromedriver");
    private static final Duration WAIT = Duration.ofSeconds(15);

    private final ChromeDriver driver;
    private final Path profile;

    private ChatBrowser(ChromeDriver driver, Path profile) {
        this.driver = driver;
        this.profile = profile;
    }

    /** Skips the calling test when chromium or chromedriver is missing. */
    static void assumeInstalled() {
        Assumptions.assumeTrue(Files.isExecutable(CHROMIUM) && Files.isExecutable(CHROMEDRIVER),
                "needs Debian's chromium and chromium-driver (apt-get install chromium chromium-driver)");
    }

    /** Starts a browser session and opens the page. */
    static ChatBrowser open(URI page) throws IOException {
        ChatBrowser browser = start();
        browser.get(page);
        return browser;
    }

    /** Starts a browser session on no page yet, so that DevTools settings can come before the page. */
    static ChatBrowser start() throws IOException {
        assumeInstalled();
        Path profile = Files.createTempDirectory("chat-chromium-profile");
        ChromeOptions options = new ChromeOptions();
        options.setBinary(CHROMIUM.toFile());
        options.addArguments("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                "--disable-background-networking", "--disable-component-update", "--disable-sync",
                "--disable-dev-shm-usage", "--user-data-dir=" + profile, "--window-size=900,700");
        ChromeDriverService service = new ChromeDriverService.Builder()
                .usingDriverExecutable(CHROMEDRIVER.toFile()).usingAnyFreePort().build();
        return new ChatBrowser(new ChromeDriver(service, options), profile);
    }

    /** Opens a page. */
    void get(URI page) {
        driver.get(page.toString());
    }

    /** Runs a script in every page this browser opens from now on, before the page's own scripts. */
    void beforeEveryPage(String script) {
        driver.executeCdpCommand("Page.addScriptToEvaluateOnNewDocument", Map.of("source", script));
    }

    /** The lines the page shows, in order. */
    @SuppressWarnings("unchecked")
    List<String> lines() {
        return (List<String>) driver.executeScript(
                "return Array.from(document.querySelectorAll('#messages li'), li => li.textContent);");
    }

    /** How many times the page shows exactly this line. */
    long count(String line) {
        return lines().stream().filter(line::equals).count();
    }

    String me() {
        return driver.findElement(By.id("me")).getText();
    }

    String state() {
        return driver.findElement(By.tagName("body")).getAttribute("data-state");
    }

    String transport() {
        return driver.findElement(By.tagName("body")).getAttribute("data-transport");
    }

    String title() {
        return driver.getTitle();
    }

    /** Evaluates a script in the page. */
    Object script(String script) {
        return driver.executeScript(script);
    }

    /** Waits for a condition on the page, up to 15 s. */
    void waitFor(String what, Predicate<ChatBrowser> condition) {
        new WebDriverWait(driver, WAIT).withMessage(() -> what + "; the page (" + state() + ", " + transport()
                        + ") shows " + lines())
                .until(d -> condition.test(this));
    }

    /** Waits until the page shows this line. */
    void waitForLine(String line) {
        waitFor("the line '" + line + "'", b -> b.lines().contains(line));
    }

    /** Waits until the page is connected over this transport and knows its name; returns the name. */
    String waitUntilOpen(String transport) {
        waitFor("the page to connect over " + transport,
                b -> "open".equals(b.state()) && transport.equals(b.transport()) && !b.me().isEmpty());
        return me();
    }

    /** Types a line into the input and presses Enter, as a user does. */
    void type(String line) {
        driver.findElement(By.id("input")).sendKeys(line + Keys.ENTER);
    }

    /** Takes the browser off the network (DevTools' offline mode) or puts it back. */
    void offline(boolean offline) {
        driver.executeCdpCommand("Network.enable", Map.of());
        driver.executeCdpCommand("Network.emulateNetworkConditions", Map.of(
                "offline", offline, "latency", 0, "downloadThroughput", -1, "uploadThroughput", -1));
    }

    @Override
    public void close() throws IOException {
        driver.quit();
        try (var files = Files.walk(profile)) {
            files.sorted(Comparator.reverseOrder()).map(Path::toFile).forEach(File::delete);
        }
    }
}
