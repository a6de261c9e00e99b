package dev.faultdisk.interop;

import dev.faultdisk.testkit.Tools;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import org.openqa.selenium.Dimension;
import org.openqa.selenium.OutputType;
import org.openqa.selenium.chrome.ChromeDriver;
import org.openqa.selenium.chrome.ChromeDriverService;
import org.openqa.selenium.chrome.ChromeOptions;

/**
 * Debian's headless Chromium driven through its chromedriver: a fresh profile, no network of its
 * own (the flags this machine's closed network needs), a laptop-sized window. Screenshots go to
 * target/screenshots/, kept as build artifacts.
 */
final class Chromium implements AutoCloseable {
    static final Path SCREENSHOTS = Path.of("target", "screenshots");

    private final ChromeDriver driver;
    private final Path profile;

    private Chromium(ChromeDriver driver, Path profile) {
        this.driver = driver;
        this.profile = profile;
    }

    /** Starts a browser (skips, or under CI fails, without chromium and chromedriver). */
    static Chromium start() throws IOException {
        Tools.require("chromium", "chromedriver");
        Path profile = Files.createTempDirectory("faultdisk-chromium-");
        ChromeOptions options = new ChromeOptions();
        options.setBinary(Tools.which("chromium").toString());
        options.addArguments(
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--disable-dev-shm-usage",
                "--user-data-dir=" + profile);
        ChromeDriverService service = new ChromeDriverService.Builder()
                .usingDriverExecutable(Tools.which("chromedriver").toFile())
                .usingAnyFreePort()
                .build();
        ChromeDriver driver = new ChromeDriver(service, options);
        driver.manage().window().setSize(new Dimension(1366, 900)); // a laptop's screen
        driver.manage().timeouts().scriptTimeout(Duration.ofSeconds(10));
        return new Chromium(driver, profile);
    }

    ChromeDriver driver() {
        return driver;
    }

    /**
     * Saves the whole page, as tall as it is, as target/screenshots/NAME.png (the window is the
     * laptop's width throughout) and returns the path.
     */
    Path screenshot(String name) {
        Dimension laptop = driver.manage().window().getSize();
        Number height = (Number) driver.executeScript("return document.documentElement.scrollHeight");
        driver.manage()
                .window()
                .setSize(new Dimension(laptop.getWidth(), Math.max(laptop.getHeight(), height.intValue() + 140)));
        try {
            return save(name);
        } finally {
            driver.manage().window().setSize(laptop);
        }
    }

    private Path save(String name) {
        try {
            Files.createDirectories(SCREENSHOTS);
            driver.executeScript("window.scrollTo(0, 0)");
            Path to = SCREENSHOTS.resolve(name + ".png");
            Files.copy(driver.getScreenshotAs(OutputType.FILE).toPath(), to, StandardCopyOption.REPLACE_EXISTING);
            return to;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    @Override
    public void close() throws IOException {
        try {
            driver.quit();
        } finally {
            try (var files = Files.walk(profile)) {
                files.sorted(java.util.Comparator.reverseOrder())
                        .forEach(p -> p.toFile().delete());
            }
        }
    }
}
