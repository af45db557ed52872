package dev.serverframework.examples.bench;

import org.junit.jupiter.api.Assumptions;
import org.openqa.selenium.Dimension;
import org.openqa.selenium.OutputType;
import org.openqa.selenium.chrome.ChromeDriver;
import org.openqa.selenium.chrome.ChromeDriverService;
import org.openqa.selenium.chrome.ChromeOptions;

import java.io.File;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.Map;

/**
 * A report page in Debian's headless chromium, driven through chromedriver as the chat and dashboard browser
 * tests do: a profile of its own, a window of a given width, errors of the page's scripts collected before the
 * page's own scripts run. Without chromium and chromium-driver the calling test is skipped, saying why.
 */
final class ReportBrowser implements AutoCloseable {
    private static final Path CHROMIUM = Path.of("/usr/bin/chromium");
    private static final Path CHROMEDRIVER = Path.of("/usr/bin/chromedriver");
    /** Uncaught errors, rejected promises and console.error calls, kept where the test can read them. */
    private static final String COLLECT_ERRORS = "window.__errors = [];"
            + "addEventListener('error', e => window.__errors.push(String(e.message)));"
            + "addEventListener('unhandledrejection', e => window.__errors.push(String(e.reason)));"
            + "const __consoleError = console.error;"
            + "console.error = (...a) => { window.__errors.push(a.join(' ')); __consoleError(...a); };";

    private final ChromeDriver driver;
    private final Path profile;

    private ReportBrowser(ChromeDriver driver, Path profile) {
        this.driver = driver;
        this.profile = profile;
    }

    /** Opens {@code page} in a window {@code width} × {@code height} CSS pixels. */
    static ReportBrowser open(Path page, int width, int height) throws IOException {
        Assumptions.assumeTrue(Files.isExecutable(CHROMIUM) && Files.isExecutable(CHROMEDRIVER),
                "needs Debian's chromium and chromium-driver (apt-get install chromium chromium-driver)");
        Path profile = Files.createTempDirectory("report-chromium-profile");
        ChromeOptions options = new ChromeOptions();
        options.setBinary(CHROMIUM.toFile());
        options.addArguments("--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
                "--disable-background-networking", "--disable-component-update", "--disable-sync",
                "--disable-dev-shm-usage", "--hide-scrollbars", "--user-data-dir=" + profile,
                "--window-size=" + width + "," + height);
        ChromeDriverService service = new ChromeDriverService.Builder()
                .usingDriverExecutable(CHROMEDRIVER.toFile()).usingAnyFreePort().build();
        ChromeDriver driver;
        try {
            driver = new ChromeDriver(service, options);
        } catch (RuntimeException | Error e) {
            deleteProfile(profile, e);
            throw e;
        }
        ReportBrowser browser = new ReportBrowser(driver, profile);
        try {
            driver.executeCdpCommand("Page.addScriptToEvaluateOnNewDocument", Map.of("source", COLLECT_ERRORS));
            driver.get(page.toUri().toString());
            return browser;
        } catch (RuntimeException | Error e) {
            // Chromium and chromedriver are running and the profile exists: quit them and delete it, then fail.
            try {
                browser.close();
            } catch (IOException | RuntimeException suppressed) {
                e.addSuppressed(suppressed);
            }
            throw e;
        }
    }

    private static void deleteProfile(Path profile, Throwable cause) {
        try {
            delete(profile);
        } catch (IOException | RuntimeException suppressed) {
            cause.addSuppressed(suppressed);
        }
    }

    private static void delete(Path dir) throws IOException {
        try (var files = Files.walk(dir)) {
            files.sorted(Comparator.reverseOrder()).map(Path::toFile).forEach(File::delete);
        }
    }

    /** Evaluates a script in the page and returns its value. */
    Object script(String script) {
        return driver.executeScript(script);
    }

    /** Makes the window as tall as the page, keeping its width, and saves a screenshot of it as PNG. */
    void screenshotWholePage(Path png) throws IOException {
        Dimension size = driver.manage().window().getSize();
        long height = (Long) script("return document.documentElement.scrollHeight;");
        driver.manage().window().setSize(new Dimension(size.getWidth(), (int) Math.min(height + 100, 12_000)));
        Files.write(png, driver.getScreenshotAs(OutputType.BYTES));
    }

    /** Quits chromium and chromedriver, then deletes the profile, even when quitting failed. */
    @Override
    public void close() throws IOException {
        try {
            driver.quit();
        } finally {
            delete(profile);
        }
    }
}
