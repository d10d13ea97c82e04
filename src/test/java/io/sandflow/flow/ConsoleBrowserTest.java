package io.sandflow.flow;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.TestMethodOrder;
import org.openqa.selenium.By;
import org.openqa.selenium.JavascriptExecutor;
import org.openqa.selenium.OutputType;
import org.openqa.selenium.TakesScreenshot;
import org.openqa.selenium.WebDriver;
import org.openqa.selenium.WebElement;
import org.openqa.selenium.chrome.ChromeDriver;
import org.openqa.selenium.chrome.ChromeDriverService;
import org.openqa.selenium.chrome.ChromeOptions;
import org.openqa.selenium.logging.LogEntry;
import org.openqa.selenium.logging.LogType;

import java.io.File;
import java.io.IOException;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.logging.Level;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;
import static org.awaitility.Awaitility.await;

/**
 * The web console in a real headless Chromium (Debian's chromium and chromium-driver, driven by Selenium through
 * /usr/bin/chromedriver), over a daemon running as a child JVM with the stand-in agent: the page loads without
 * console errors, follows a batch without reloading, shows Arabic right to left, and lets a failed job be retried
 * only when sandflow.http.actions=true and the page's CSRF token comes with the POST. Screenshots go to
 * target/console-screenshots/.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
@Tag("process")
class ConsoleBrowserTest {

    private static final Path CHROMIUM = Path.of("/usr/bin/chromium");
    private static final Path DRIVER = Path.of("/usr/bin/chromedriver");
    private static final Path SHOTS = Path.of("target", "console-screenshots");
    private static final ObjectMapper JSON = new ObjectMapper();

    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();
    private Path root;
    private Workdir work;
    private Process daemon;
    private int port;
    private WebDriver driver;

    @BeforeAll
    void startBrowser() throws IOException {
        List<String> missing = new ArrayList<>();
        for (Path tool : List.of(CHROMIUM, DRIVER)) {
            if (!Files.isExecutable(tool)) {
                missing.add(tool.toString());
            }
        }
        String message = "the console's browser tests need " + String.join(" and ", missing)
                + ": run bin/install-test-deps (Debian's chromium and chromium-driver)";
        if ("true".equalsIgnoreCase(System.getenv("CI"))) {
            assertThat(missing).as(message).isEmpty();
        }
        assumeTrue(missing.isEmpty(), message);

        root = Files.createTempDirectory("sandflow-console");
        Path profile = Files.createTempDirectory("chromium-profile");
        ChromeOptions options = new ChromeOptions();
        options.setBinary(CHROMIUM.toFile());
        options.addArguments("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                "--disable-background-networking", "--disable-component-update", "--disable-sync",
                "--user-data-dir=" + profile, "--window-size=1280,1500", "--lang=en-US");
        options.setCapability("goog:loggingPrefs", Map.of(LogType.BROWSER, "ALL"));
        ChromeDriverService service = new ChromeDriverService.Builder().usingDriverExecutable(DRIVER.toFile())
                .usingAnyFreePort().build();
        driver = new ChromeDriver(service, options);
        driver.manage().timeouts().scriptTimeout(Duration.ofSeconds(10));
        Files.createDirectories(SHOTS);
    }

    @AfterAll
    void stopAll() throws Exception {
        if (driver != null) {
            driver.quit();
        }
        stopDaemon();
        if (work != null) {
            DaemonProcess.printLog(work);
        }
    }

    @Test
    @Order(1)
    void thePageLoadsWithoutErrorsAndFollowsTheBatchWithoutReloading() throws Exception {
        work = new Workdir(root).set("sandflow.workers", "1").set("sandflow.observe.refresh", "200ms")
                .set("sandflow.agent.env.STANDIN_COST_USD", "0.25").set("sandflow.agent.env.STANDIN_DELAY", "1.5");
        startDaemon(false);

        driver.get(base());
        await().atMost(Duration.ofSeconds(15)).until(() -> text("count-total").equals("0"));
        assertThat(driver.getTitle()).isEqualTo("Sandflow");
        assertThat(severeLogs()).isEmpty();
        ((JavascriptExecutor) driver).executeScript("window.sandflowTestMarker = 'the same page';");

        work.ask("a-ok.json", "success");
        work.ask("b-عربي.json", "arabic");
        work.ask("c-rejected.json", "bad-request");
        work.ask("d-ok.json", "success");
        Set<String> seen = new LinkedHashSet<>();
        await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(100)).until(() -> {
            // one reading of the three counts, so that the last one seen is the one that ended the wait
            String counts = text("count-done") + "/" + text("count-failed") + "/" + text("count-total");
            seen.add(counts);
            return counts.startsWith("3/1/");
        });
        // the page showed the batch under way, then finished, by itself
        assertThat(seen).anyMatch(s -> s.endsWith("/4") && !s.equals("3/1/4"));
        assertThat(seen).last().isEqualTo("3/1/4");
        assertThat(((JavascriptExecutor) driver).executeScript("return window.sandflowTestMarker;"))
                .isEqualTo("the same page");
        await().atMost(Duration.ofSeconds(10)).until(() -> driver.findElements(By.cssSelector("#results-table tbody tr"))
                .size() == 3 && driver.findElements(By.cssSelector("#failed-table tbody tr")).size() == 1);
        assertThat(text("spend")).isEqualTo("$0.75");
        assertThat(text("tokens-in")).isEqualTo("3,600");
        assertThat(severeLogs()).isEmpty();
        screenshot("overview");
    }

    @Test
    @Order(2)
    void anArabicResultRendersRightToLeft() throws IOException {
        WebElement arabic = resultCell("b-عربي.json", "summary");
        WebElement latin = resultCell("a-ok.json", "summary");
        assertThat(arabic.getText()).startsWith("ملخص تجريبي");
        assertThat(arabic.getAttribute("dir")).isEqualTo("auto");
        assertThat(direction(arabic)).isEqualTo("rtl");
        assertThat(direction(latin)).isEqualTo("ltr");

        driver.findElement(By.linkText("b-عربي.json")).click();
        WebElement result = driver.findElement(By.id("job-doc"));
        await().atMost(Duration.ofSeconds(10)).until(() -> result.getText().contains("ملخص تجريبي"));
        assertThat(driver.findElement(By.id("job-doc-title")).getText()).isEqualTo("Result");
        assertThat(driver.findElements(By.cssSelector("#job-runs tbody tr"))).hasSize(1);
        screenshot("arabic-result");
    }

    @Test
    @Order(3)
    void aReadOnlyConsoleOffersNoRetryAndRefusesOne() throws Exception {
        long id = failedJobId("c-rejected.json");
        driver.get(base() + "#job/" + id);
        await().atMost(Duration.ofSeconds(10)).until(() -> text("job-title").equals("c-rejected.json"));
        await().atMost(Duration.ofSeconds(10)).until(() -> text("job-doc-title").equals("Report"));
        assertThat(driver.findElements(By.id("retry"))).isEmpty();
        assertThat(driver.findElement(By.id("job-doc")).getText()).contains("\"class\": \"permanent\"");

        HttpResponse<String> refused = post("/console/api/retry?id=" + id, csrfToken());
        assertThat(refused.statusCode()).isEqualTo(403);
        assertThat(refused.body()).contains("sandflow.http.actions=true");
        assertThat(work.failed().resolve("c-rejected.json")).exists();
        assertThat(work.agentCalls("c-rejected.json")).isEqualTo(1);
        assertThat(severeLogs()).isEmpty();
    }

    @Test
    @Order(4)
    void withActionsOnRetryNeedsTheTokenAndReQueuesTheFailedJob() throws Exception {
        // the page would go on polling the daemon while it restarts
        driver.get("about:blank");
        assertThat(severeLogs()).isEmpty();
        stopDaemon();
        startDaemon(true);
        long id = failedJobId("c-rejected.json");

        HttpResponse<String> noToken = post("/console/api/retry?id=" + id, null);
        assertThat(noToken.statusCode()).isEqualTo(403);
        assertThat(noToken.body()).contains("token");
        HttpResponse<String> wrongToken = post("/console/api/retry?id=" + id, "not-the-token");
        assertThat(wrongToken.statusCode()).isEqualTo(403);
        assertThat(work.failed().resolve("c-rejected.json")).exists();
        assertThat(work.agentCalls("c-rejected.json")).isEqualTo(1);

        driver.get(base() + "#job/" + id);
        WebElement retry = await().atMost(Duration.ofSeconds(10)).until(() -> driver.findElements(By.id("retry")),
                l -> !l.isEmpty()).get(0);
        screenshot("failed-job");
        retry.click();
        await().atMost(Duration.ofSeconds(10)).until(() -> text("retry-status")
                .equals("c-rejected.json is back in the inbox and runs again"));
        // it runs again (and, being the same input, fails again)
        await().atMost(Duration.ofSeconds(30)).until(() -> work.agentCalls("c-rejected.json") == 2
                && Files.exists(work.failed().resolve("c-rejected.json")));
        assertThat(severeLogs()).isEmpty();
    }

    // ------------------------------------------------------------------------------------------------- helpers

    private void startDaemon(boolean actions) throws IOException {
        try (ServerSocket free = new ServerSocket(0)) {
            port = free.getLocalPort();
        }
        work.set("sandflow.http.port", Integer.toString(port)).set("sandflow.http.actions", Boolean.toString(actions));
        daemon = DaemonProcess.start(work, "run");
        await().atMost(Duration.ofSeconds(60)).ignoreExceptionsInstanceOf(java.net.ConnectException.class)
                .until(() -> get("/console/api/state").statusCode() == 200);
    }

    private void stopDaemon() throws InterruptedException {
        if (daemon != null) {
            DaemonProcess.terminate(daemon, Duration.ofSeconds(30));
            daemon = null;
        }
    }

    private String base() {
        return "http://127.0.0.1:" + port + "/";
    }

    private HttpResponse<String> get(String path) throws IOException, InterruptedException {
        return http.send(HttpRequest.newBuilder(URI.create(base() + path.substring(1))).build(),
                HttpResponse.BodyHandlers.ofString());
    }

    private HttpResponse<String> post(String path, String token) throws IOException, InterruptedException {
        HttpRequest.Builder request = HttpRequest.newBuilder(URI.create(base() + path.substring(1)))
                .POST(HttpRequest.BodyPublishers.noBody());
        if (token != null) {
            request.header("X-Sandflow-CSRF", token);
        }
        return http.send(request.build(), HttpResponse.BodyHandlers.ofString());
    }

    private String csrfToken() throws IOException, InterruptedException {
        return JSON.readTree(get("/console/api/state").body()).path("csrf").asText();
    }

    private long failedJobId(String name) throws IOException, InterruptedException {
        for (JsonNode job : JSON.readTree(get("/console/api/failed").body()).path("jobs")) {
            if (job.path("file").asText().equals(name)) {
                return job.path("id").asLong();
            }
        }
        throw new AssertionError("no failed job of " + name);
    }

    private String text(String id) {
        return driver.findElement(By.id(id)).getText();
    }

    private WebElement resultCell(String file, String field) {
        for (WebElement row : driver.findElements(By.cssSelector("#results-table tbody tr"))) {
            if (row.findElement(By.tagName("td")).getText().equals(file)) {
                return row.findElement(By.cssSelector("td[data-field='" + field + "']"));
            }
        }
        throw new AssertionError("no result row of " + file);
    }

    private String direction(WebElement element) {
        return (String) ((JavascriptExecutor) driver).executeScript(
                "return getComputedStyle(arguments[0]).direction;", element);
    }

    /** The browser's console errors since the last call (a failed request shows there too). */
    private List<String> severeLogs() {
        List<String> severe = new ArrayList<>();
        for (LogEntry e : driver.manage().logs().get(LogType.BROWSER)) {
            if (e.getLevel().intValue() >= Level.SEVERE.intValue()) {
                severe.add(e.getMessage());
            }
        }
        return severe;
    }

    private void screenshot(String name) throws IOException {
        File shot = ((TakesScreenshot) driver).getScreenshotAs(OutputType.FILE);
        Files.copy(shot.toPath(), SHOTS.resolve(name + ".png"), StandardCopyOption.REPLACE_EXISTING);
    }
}
