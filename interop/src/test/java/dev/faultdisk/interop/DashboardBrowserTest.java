package dev.faultdisk.interop;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.faultdisk.client.Event;
import dev.faultdisk.client.FaultInfo;
import dev.faultdisk.client.FaultRule;
import dev.faultdisk.client.FaultdiskClient;
import dev.faultdisk.server.FaultdiskServer;
import dev.faultdisk.testkit.CommandResult;
import dev.faultdisk.testkit.Fio;
import dev.faultdisk.testkit.QemuIo;
import dev.faultdisk.testkit.Tools;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.openqa.selenium.Alert;
import org.openqa.selenium.By;
import org.openqa.selenium.StaleElementReferenceException;
import org.openqa.selenium.WebElement;
import org.openqa.selenium.chrome.ChromeDriver;
import org.openqa.selenium.support.ui.Select;

/**
 * The dashboard in a real headless Chromium against a real server, driven as a person would:
 * its charts move while fio runs, its form adds a rule the server has, its button releases a
 * request qemu-io waits for, and its power button (after the confirmation) cuts the power as a
 * QMP client sees it. Each test leaves a screenshot in target/screenshots/.
 */
class DashboardBrowserTest {
    private static final Duration WAIT = Duration.ofSeconds(30);
    private static FaultdiskServer server;
    private static FaultdiskClient qmp;
    private static Chromium chromium;
    private static ChromeDriver browser;

    @BeforeAll
    static void start() throws Exception {
        server = FaultdiskServer.builder()
                .export("fio0=memory:256M")
                .export("form0=memory:16M")
                .export("hold0=memory:16M")
                .export("power0=memory:16M,cache=writeback")
                .nbd(new InetSocketAddress("127.0.0.1", 0))
                .qmp(new InetSocketAddress("127.0.0.1", 0))
                .http(new InetSocketAddress("127.0.0.1", 0))
                .start();
        qmp = FaultdiskClient.connect(server.qmpAddresses().getFirst(), WAIT);
        chromium = Chromium.start();
        browser = chromium.driver();
    }

    @AfterAll
    static void stop() throws Exception {
        try {
            if (chromium != null) {
                chromium.close();
            }
        } finally {
            if (qmp != null) {
                qmp.close();
            }
            if (server != null) {
                server.close();
            }
        }
    }

    private static String uri(String export) {
        InetSocketAddress nbd = (InetSocketAddress) server.nbdAddress();
        return "nbd://127.0.0.1:" + nbd.getPort() + "/" + export;
    }

    private static WebElement open(String export) {
        browser.get(server.http().url());
        return await("the dashboard shows " + export)
                .atMost(WAIT)
                .until(() -> browser.findElements(By.cssSelector("[data-export='" + export + "']")), l -> !l.isEmpty())
                .getFirst();
    }

    /** Clicks what {@code by} finds once it is there (the page redraws a table whose data changed). */
    private static void click(String what, By by) {
        await(what)
                .atMost(WAIT)
                .ignoreException(StaleElementReferenceException.class)
                .until(() -> {
                    List<WebElement> found = browser.findElements(by);
                    if (found.isEmpty()) {
                        return false;
                    }
                    found.getFirst().click();
                    return true;
                });
    }

    @Test
    void theIopsChartMovesWhileFioRuns() {
        Tools.require("fio");
        // A rare delay, so that the rules table, the latency tail and the events have something to show.
        qmp.faultAdd("fio0", FaultRule.delay().fixedMs(2).ops("read").probability(0.01));
        CompletableFuture<CommandResult> fio = CompletableFuture.supplyAsync(() -> Fio.run(
                uri("fio0"),
                List.of("--rw=randrw", "--bs=4k", "--iodepth=4", "--size=64M", "--time_based", "--runtime=8")));
        WebElement card = open("fio0");
        Set<String> seen = new HashSet<>();
        await("the IOPS chart moves: several different non-zero IOPS figures")
                .atMost(WAIT)
                .pollInterval(Duration.ofMillis(300))
                .until(() -> {
                    String iops = card.getDomAttribute("data-iops");
                    if (iops != null && Double.parseDouble(iops) > 50) {
                        seen.add(iops);
                    }
                    return seen.size() >= 3;
                });
        assertEquals(3, card.findElements(By.cssSelector("canvas")).size(), "three charts: IOPS, throughput, latency");
        assertTrue(Integer.parseInt(card.getDomAttribute("data-samples")) >= 3, "the charts hold several samples");
        assertTrue(
                (Boolean) browser.executeScript("return document.documentElement.scrollWidth <= window.innerWidth"),
                "nothing runs off a laptop's screen sideways");
        assertTrue(card.getText().contains("p99"), "the latency chart shows percentiles: " + card.getText());
        chromium.screenshot("dashboard-fio");
        fio.join().assertOk("fio");
        qmp.faultClear("fio0");
    }

    @Test
    void aDelayRuleAddedThroughTheFormIsInQueryFaultsAndItsButtonRemovesIt() {
        open("form0");
        new Select(browser.findElement(By.cssSelector("#fault-form select[name=device]"))).selectByValue("form0");
        new Select(browser.findElement(By.id("fault-type"))).selectByValue("delay");
        WebElement params = browser.findElement(By.id("fault-params"));
        params.clear();
        params.sendKeys("{\"ms\": 7}");
        browser.findElement(By.cssSelector("#fault-form input[name=ops]")).sendKeys("read");
        browser.findElement(By.id("fault-add")).click();
        FaultInfo rule = await("the rule reaches the server")
                .atMost(WAIT)
                .until(() -> qmp.queryFaults("form0"), l -> !l.isEmpty())
                .getFirst();
        assertEquals("delay", rule.type());
        assertEquals(List.of("read"), rule.raw().get("rule") instanceof Map<?, ?> m ? m.get("ops") : null);
        assertEquals(7.0, ((Number) ((Map<?, ?>) rule.raw().get("rule")).get("ms")).doubleValue());
        By remove = By.cssSelector("button.remove-rule[data-id='" + rule.id() + "']");
        await("the page lists the rule")
                .atMost(WAIT)
                .until(() -> !browser.findElements(remove).isEmpty());
        chromium.screenshot("dashboard-fault-form");
        click("the rule's remove button", remove);
        await("the remove button removes it")
                .atMost(WAIT)
                .until(() -> qmp.queryFaults("form0").isEmpty());
    }

    @Test
    void aHeldReadIsListedAndItsReleaseButtonLetsQemuIoFinish() throws Exception {
        Tools.require("qemu-io");
        qmp.faultAdd("hold0", FaultRule.hang().ops("read").range(0, 4096));
        CompletableFuture<CommandResult> read = QemuIo.start(uri("hold0"), "read -P 0 0 4k");
        open("hold0");
        By release = By.cssSelector("#held button.release");
        await("the page lists the held read")
                .atMost(WAIT)
                .until(() -> !browser.findElements(release).isEmpty());
        assertTrue(browser.findElement(By.id("held")).getText().contains("hold0"));
        chromium.screenshot("dashboard-held");
        assertTrue(!read.isDone(), "qemu-io waits for the held read");
        click("the release button", release);
        CommandResult done = read.get(WAIT.toSeconds(), TimeUnit.SECONDS);
        done.assertOk("qemu-io read");
        assertTrue(done.stdout().contains("read 4096/4096 bytes"), done.stdout());
        qmp.faultClear("hold0");
    }

    @Test
    void thePowerButtonAsksFirstThenCutsThePowerAsAQmpClientSees() {
        WebElement card = open("power0");
        assertTrue(card.isDisplayed());
        WebElement button = await("the write cache row")
                .atMost(WAIT)
                .until(
                        () -> browser.findElements(By.cssSelector("button.power-fail[data-device='power0']")),
                        l -> !l.isEmpty())
                .getFirst();
        long cutsBefore = server.exports()
                .find("power0")
                .orElseThrow()
                .writeCache()
                .status()
                .powerFails();
        button.click();
        Alert confirm = browser.switchTo().alert();
        assertTrue(confirm.getText().contains("power0"), confirm.getText());
        confirm.accept();
        Event cut = qmp.awaitEvent("POWER_FAIL", e -> "power0".equals(e.device()), WAIT);
        assertEquals("drop-all", cut.data().get("mode"));
        assertEquals(
                cutsBefore + 1,
                server.exports()
                        .find("power0")
                        .orElseThrow()
                        .writeCache()
                        .status()
                        .powerFails());
        await("the page shows the event")
                .atMost(WAIT)
                .until(() -> !browser.findElements(By.cssSelector("#events li[data-event='POWER_FAIL']"))
                        .isEmpty());
        chromium.screenshot("dashboard-power-fail");
    }
}
