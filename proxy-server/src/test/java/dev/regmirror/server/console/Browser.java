package dev.regmirror.server.console;

import java.io.File;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.logging.Level;
import org.openqa.selenium.By;
import org.openqa.selenium.OutputType;
import org.openqa.selenium.chrome.ChromeDriver;
import org.openqa.selenium.chrome.ChromeDriverService;
import org.openqa.selenium.chrome.ChromeOptions;
import org.openqa.selenium.logging.LogEntry;
import org.openqa.selenium.logging.LogType;
import org.openqa.selenium.logging.LoggingPreferences;
import org.openqa.selenium.support.ui.ExpectedConditions;
import org.openqa.selenium.support.ui.WebDriverWait;

/**
 * A headless Debian Chromium driven by its ChromeDriver, for the console's browser tests: one per
 * test class, with a fresh profile, no network of its own (no sync, no updates: the flags the
 * closed test network needs), its console log kept, and screenshots written when
 * {@code -Dconsole.screenshots=<dir>} is set. Public for the cluster ITs, which look at a node's
 * console too.
 */
public final class Browser implements AutoCloseable {

    static final String CHROMIUM = "/usr/bin/chromium";
    static final String CHROMEDRIVER = "/usr/bin/chromedriver";

    public final ChromeDriver driver;
    private final ChromeDriverService service;
    private final Path profile;
    private final Optional<Path> screenshots;

    public Browser() throws IOException {
        profile = Files.createTempDirectory("console-chromium");
        ChromeOptions options = new ChromeOptions();
        options.setBinary(CHROMIUM);
        options.addArguments("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync",
                "--user-data-dir=" + profile, "--window-size=1280,900", "--lang=en-US");
        LoggingPreferences logs = new LoggingPreferences();
        logs.enable(LogType.BROWSER, Level.ALL);
        options.setCapability("goog:loggingPrefs", logs);
        service = new ChromeDriverService.Builder().usingDriverExecutable(new File(CHROMEDRIVER)).usingAnyFreePort()
                .build();
        driver = new ChromeDriver(service, options);
        driver.manage().timeouts().pageLoadTimeout(Duration.ofSeconds(30));
        String dir = System.getProperty("console.screenshots", "");
        screenshots = dir.isEmpty() ? Optional.empty() : Optional.of(Path.of(dir));
    }

    public WebDriverWait await() {
        return new WebDriverWait(driver, Duration.ofSeconds(20));
    }

    /** The browser's console messages since the last call (reading them clears them). */
    List<LogEntry> log() {
        return driver.manage().logs().get(LogType.BROWSER).getAll();
    }

    /** The browser's console since the last call has no error but those expected (each a part of the message). */
    public void assertOnlyErrorsAbout(String... expected) {
        for (LogEntry entry : log()) {
            if (entry.getLevel().intValue() < Level.WARNING.intValue()) {
                continue;
            }
            boolean known = false;
            for (String part : expected) {
                known |= entry.getMessage().contains(part);
            }
            if (!known) {
                throw new AssertionError("the browser's console: " + entry);
            }
        }
    }

    /**
     * Signs in to the console at {@code base} ({@code http://host:port} of an admin listener) with
     * the fields left empty, as works on a loopback admin API without a token.
     */
    public void signInWithoutToken(String base) {
        driver.get(base + "/signin");
        driver.findElement(By.id("signin")).click();
        await().until(ExpectedConditions.urlToBe(base + "/"));
    }

    /** Writes {@code <name>.png} into the screenshot directory, if one was given. */
    public void screenshot(String name) throws IOException {
        if (screenshots.isPresent()) {
            Files.createDirectories(screenshots.get());
            Files.write(screenshots.get().resolve(name + ".png"), driver.getScreenshotAs(OutputType.BYTES));
        }
    }

    /** Shows pages as a phone 390 px wide would (a window cannot be made that narrow), or as before. */
    public void phone(boolean on) {
        if (on) {
            driver.executeCdpCommand("Emulation.setDeviceMetricsOverride", java.util.Map.of("width", 390, "height", 844,
                    "deviceScaleFactor", 1, "mobile", true));
        } else {
            driver.executeCdpCommand("Emulation.clearDeviceMetricsOverride", java.util.Map.of());
        }
    }

    @Override
    public void close() throws IOException {
        try {
            driver.quit();
        } finally {
            service.stop();
            try (var files = Files.walk(profile)) {
                files.sorted(java.util.Comparator.reverseOrder()).forEach(path -> path.toFile().delete());
            }
        }
    }
}
