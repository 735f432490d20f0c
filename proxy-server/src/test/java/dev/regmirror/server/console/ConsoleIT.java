package dev.regmirror.server.console;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.sun.net.httpserver.HttpServer;
import dev.regmirror.core.cache.RepositoryStore;
import dev.regmirror.core.cache.TagStore;
import dev.regmirror.core.storage.CacheLayout;
import dev.regmirror.core.reference.Digest;
import dev.regmirror.core.reference.RepositoryName;
import dev.regmirror.core.reference.Tag;
import dev.regmirror.core.testing.Closing;
import dev.regmirror.core.upstream.Route;
import dev.regmirror.core.testing.BuiltImage;
import dev.regmirror.core.testing.BuiltManifest;
import dev.regmirror.core.testing.LoggedRequest;
import dev.regmirror.core.testing.RegistryProcess;
import dev.regmirror.core.testing.Skopeo;
import dev.regmirror.core.testing.TestImages;
import dev.regmirror.server.MirrorFixture;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.io.TempDir;
import org.openqa.selenium.By;
import org.openqa.selenium.WebElement;
import org.openqa.selenium.support.ui.ExpectedConditions;

/**
 * The web console in a real headless Chromium against a real regmirror whose docker.io is a real
 * registry, images pulled through it with skopeo: signing in (a wrong token refused), the image
 * table after a pull, filtering, an image's layers and who shares them, a purge after its preview
 * (the next pull fetches again, counted at the upstream), a prefetch whose bar reaches 100%, an archive uploaded
 * on the Actions page imported (then pulled with no upstream blob request), a dead
 * upstream's endpoint shown down, the overview's figures and charts (and, on this single node, no
 * cluster card, no Cluster link, and a Cluster page that says so), a cross-site form post
 * refused; and the browser's console showing no error. One browser for the class; the tests run
 * in order, each going on from where the last left the page. With
 * {@code -Dconsole.screenshots=<dir>} each page's screenshot is written there (docs/console/).
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class ConsoleIT {

    private static final String TOKEN = "console-test-token-5d1e";
    private static final String UPSTREAM_PASSWORD = "upstream-secret-77aa";

    @TempDir
    static Path work;

    private static RegistryProcess upstream;
    private static Skopeo skopeo;
    private static BuiltImage app;
    private static BuiltImage web;
    private static MirrorFixture mirror;
    private static Browser browser;
    private static String base;

    @BeforeAll
    static void start() throws Exception {
        upstream = RegistryProcess.start();
        skopeo = new Skopeo();
        app = TestImages.singleArch(work.resolve("app"), "1.0", 2, 100_000, 61);
        web = TestImages.multiArch(work.resolve("web"), "2.0", List.of("linux/amd64"), 2, 100_000, 61);
        BuiltImage pre = TestImages.singleArch(work.resolve("pre"), "1.0", 3, 2_000_000, 62);
        skopeo.copy(app.source(), "docker://" + upstream.hostPort() + "/library/app:1.0");
        skopeo.copy(web.source(), "docker://" + upstream.hostPort() + "/team/web:2.0", "--all");
        skopeo.copy(pre.source(), "docker://" + upstream.hostPort() + "/library/pre:1.0");
        int closedPort;
        try (ServerSocket socket = new ServerSocket(0)) {
            closedPort = socket.getLocalPort();
        }
        mirror = MirrorFixture.start(upstream.url(), work.resolve("cache"), Map.of(
                "regmirror.admin.token", TOKEN,
                "regmirror.upstreams.dead.registry", "dead.example",
                "regmirror.upstreams.dead.url", "http://127.0.0.1:" + closedPort,
                "regmirror.upstreams.dead.username", "robot",
                "regmirror.upstreams.dead.password", UPSTREAM_PASSWORD,
                "regmirror.upstreams.dead.token-realm", ""));
        base = "http://127.0.0.1:" + mirror.adminPort();
        browser = new Browser();
    }

    @AfterAll
    static void stop() throws Exception {
        Closing.all(browser, mirror, skopeo, upstream);
    }

    @Test
    @Order(1)
    void signingInRefusesAWrongTokenAndTakesTheRightOne() throws Exception {
        browser.driver.get(base + "/");
        browser.await().until(ExpectedConditions.urlToBe(base + "/signin"));
        browser.screenshot("signin");
        signIn("not-the-token");
        WebElement error = browser.await().until(ExpectedConditions.visibilityOfElementLocated(By.cssSelector(".error")));
        assertEquals("wrong admin token", error.getText());
        assertEquals(base + "/signin", browser.driver.getCurrentUrl());
        assertTrue(browser.driver.manage().getCookies().isEmpty(), "no session for a wrong token");
        assertOnlyErrorsAbout("/signin - Failed to load resource: the server responded with a status of 401");

        signIn(TOKEN);
        browser.await().until(ExpectedConditions.urlToBe(base + "/"));
        browser.await().until(ExpectedConditions.textToBe(By.id("user"), "admin token"));
        var cookie = browser.driver.manage().getCookieNamed(ConsoleSessions.COOKIE);
        assertTrue(cookie.isHttpOnly());
        assertEquals("Strict", cookie.getSameSite());
        assertFalse(browser.driver.getPageSource().contains(TOKEN));
    }

    @Test
    @Order(2)
    void aCrossSiteFormPostIsRefused() throws Exception {
        HttpServer evil = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        byte[] page = ("<!doctype html><link rel=icon href=\"data:,\"><form id=f method=post action=\"" + base + "/admin/prune\">"
                + "<button id=go>win a prize</button></form>").getBytes(StandardCharsets.UTF_8);
        evil.createContext("/", exchange -> {
            exchange.getResponseHeaders().set("Content-Type", "text/html");
            exchange.sendResponseHeaders(200, page.length);
            exchange.getResponseBody().write(page);
            exchange.close();
        });
        evil.start();
        try {
            browser.driver.get("http://127.0.0.1:" + evil.getAddress().getPort() + "/");
            browser.driver.findElement(By.id("go")).click();
            browser.await().until(ExpectedConditions.urlToBe(base + "/admin/prune"));
            String answer = browser.driver.findElement(By.tagName("body")).getText();
            assertTrue(answer.contains("\"code\":\"DENIED\""), answer);
            assertTrue(answer.contains("from another"), answer);
            assertOnlyErrorsAbout("/admin/prune - Failed to load resource: the server responded with a status of 403");
        } finally {
            evil.stop(0);
        }
    }

    /** The detail view's download link, fetched as the browser would: same origin, with its session cookie only. */
    private void assertDownloadLinkExportsTheImage() throws Exception {
        WebElement link = browser.driver.findElement(By.id("export-link"));
        assertEquals("Download (docker archive)", link.getText());
        String href = link.getAttribute("href");
        assertEquals(base + "/admin/export?image=docker.io%2Flibrary%2Fapp%3A1.0", href);
        String cookies = String.join("; ", browser.driver.manage().getCookies().stream()
                .map(cookie -> cookie.getName() + "=" + cookie.getValue()).toList());
        Path tar = work.resolve("console-app.tar");
        HttpResponse<Path> export = java.net.http.HttpClient.newHttpClient().send(java.net.http.HttpRequest
                .newBuilder(java.net.URI.create(href)).header("Cookie", cookies).GET().build(),
                HttpResponse.BodyHandlers.ofFile(tar));
        assertEquals(200, export.statusCode());
        assertEquals("attachment; filename=\"app_1.0.tar\"", export.headers().firstValue("content-disposition").orElseThrow());
        assertEquals(app.digest(), skopeo.inspectDigest("oci-archive:" + tar));
    }

    @Test
    @Order(3)
    void theImageTableShowsAPulledImageFiltersAndPurgesItAfterThePreview() throws Exception {
        skopeo.copyToDir("docker://" + mirror.hostPort() + "/app:1.0", work.resolve("pulled-app-1"));
        skopeo.copyToOci("docker://" + mirror.hostPort() + "/team/web:2.0", work.resolve("pulled-web"), "2.0", "--all");
        mirror.awaitFillsCommitted();

        browser.driver.get(base + "/#images");
        rows(2);
        browser.driver.findElement(By.id("filter")).sendKeys("library/app");
        WebElement row = rows(1).get(0);
        assertEquals("docker.io/library/app:1.0", row.getAttribute("data-image"));
        assertTrue(row.getText().contains("1"), "one pull: " + row.getText());

        row.findElement(By.cssSelector("button.link")).click();
        WebElement detail = browser.await().until(ExpectedConditions.visibilityOfElementLocated(By.id("detail")));
        browser.await().until(ExpectedConditions.textToBePresentInElementLocated(By.id("detail"), "docker.io/team/web:2.0"));
        assertTrue(detail.getText().contains("config"), detail.getText());
        browser.screenshot("images");
        assertDownloadLinkExportsTheImage();

        row.findElement(By.cssSelector("button.purge")).click();
        WebElement preview = browser.await().until(ExpectedConditions.visibilityOfElementLocated(By.id("preview-list")));
        assertTrue(preview.getText().contains("docker.io/library/app:1.0"), preview.getText());
        BuiltManifest image = app.manifest();
        assertTrue(preview.getText().contains(image.layers().get(1).digest().toString()), preview.getText());
        assertFalse(preview.getText().contains(image.layers().get(0).digest().toString()), "web shares it: it stays");
        browser.screenshot("purge-preview");
        browser.driver.findElement(By.id("confirm-ok")).click();
        browser.await().until(ExpectedConditions.textToBePresentInElementLocated(By.id("status"), "Purged docker.io/library/app:1.0"));
        browser.await().until(ExpectedConditions.textToBe(By.id("page"), "nothing cached matches"));

        upstream.reset();
        skopeo.copyToDir("docker://" + mirror.hostPort() + "/app:1.0", work.resolve("pulled-app-2"));
        mirror.awaitFillsCommitted();
        assertEquals(Set.of(image.config().digest(), image.layers().get(1).digest()), blobGetDigests(),
                "the purged blobs are fetched again, the shared one is not");
    }

    @Test
    @Order(4)
    void aPrefetchShowsItsProgressBarUpTo100Percent() throws Exception {
        browser.driver.get(base + "/#actions");
        browser.driver.findElement(By.id("prefetch-image")).sendKeys("pre:1.0");
        browser.driver.findElement(By.id("prefetch")).click();
        WebElement status = browser.await().until(ExpectedConditions.textToBePresentInElementLocated(By.id("status"),
                "Prefetching docker.io/library/pre:1.0")) ? browser.driver.findElement(By.id("status")) : null;
        String id = status.getText().replaceAll(".*\\(job ([0-9a-f]+)\\).*", "$1");
        By job = By.cssSelector("tr[data-job='" + id + "']");
        browser.await().until(ExpectedConditions.textToBePresentInElementLocated(job, "succeeded"));
        WebElement row = browser.driver.findElement(job);
        assertEquals("100%", row.findElement(By.cssSelector(".percent")).getText());
        WebElement bar = row.findElement(By.tagName("progress"));
        assertEquals(bar.getAttribute("max"), bar.getAttribute("value"));
        browser.screenshot("actions");
    }

    @Test
    @Order(5)
    void anArchiveUploadedOnTheActionsPageIsCachedAndPulledWithNoUpstreamBlob() throws Exception {
        BuiltImage saved = TestImages.singleArch(work.resolve("saved"), "3.0", 2, 300_000, 63);
        Path tar = work.resolve("saved.tar");
        skopeo.copy(saved.source(), "docker-archive:" + tar + ":team/saved:3.0");

        Path notATar = work.resolve("notes.tar");
        Files.writeString(notATar, "these are notes, not an image archive");
        browser.driver.get(base + "/#actions");
        browser.await().until(ExpectedConditions.visibilityOfElementLocated(By.id("import-file"))).sendKeys(notATar.toString());
        browser.driver.findElement(By.id("import")).click();
        browser.await().until(ExpectedConditions.textToBePresentInElementLocated(By.id("status"),
                "MANIFEST_INVALID: the archive holds no files (is it a tar?)"));
        assertOnlyErrorsAbout("/admin/import - Failed to load resource: the server responded with a status of 400");

        browser.driver.findElement(By.id("import-file")).sendKeys(tar.toString());
        browser.driver.findElement(By.id("import")).click();
        By imported = By.cssSelector("#import-result li[data-imported='docker.io/team/saved:3.0']");
        WebElement result = browser.await().until(ExpectedConditions.visibilityOfElementLocated(imported));
        HttpResponse<byte[]> manifest = mirror.get("/v2/team/saved/manifests/3.0",
                "Accept", "application/vnd.docker.distribution.manifest.v2+json");
        assertEquals(200, manifest.statusCode());
        assertTrue(result.getText().contains(Digest.sha256Of(manifest.body()).toString()), result.getText());
        assertEquals("100%", browser.driver.findElement(By.id("import-percent")).getText());
        browser.await().until(ExpectedConditions.textToBePresentInElementLocated(By.id("status"),
                "Imported 1 image from saved.tar"));
        browser.driver.executeScript("document.getElementById('import-form').scrollIntoView()");
        browser.screenshot("import");

        browser.driver.get(base + "/#images");
        browser.driver.navigate().refresh(); // an empty filter: the hash change alone keeps the last one
        browser.await().until(ExpectedConditions.visibilityOfElementLocated(By.id("filter"))).sendKeys("team/saved");
        assertEquals("docker.io/team/saved:3.0", rows(1).get(0).getAttribute("data-image"));

        upstream.reset();
        Path pulled = work.resolve("pulled-saved");
        skopeo.copyToDir("docker://" + mirror.hostPort() + "/team/saved:3.0", pulled);
        // docker-archive holds the layers uncompressed: the served manifest names them, the config is the built one.
        JsonNode served = new ObjectMapper().readTree(manifest.body());
        assertEquals(saved.manifest().config().digest().toString(), served.path("config").path("digest").asText());
        for (JsonNode blob : List.of(served.path("config"), served.path("layers").path(0), served.path("layers").path(1))) {
            Digest digest = Digest.parse(blob.path("digest").asText());
            assertEquals(digest, Digest.sha256Of(Files.readAllBytes(pulled.resolve(digest.hex()))));
        }
        assertEquals(List.of(), upstream.blobGets(), "every blob came from the import");
    }

    @Test
    @Order(6)
    void aDeadUpstreamsEndpointIsShownDown() throws Exception {
        HttpResponse<byte[]> pull = mirror.get("/v2/dead.example/team/app/manifests/1.0");
        assertEquals(503, pull.statusCode(), new String(pull.body(), StandardCharsets.UTF_8));

        browser.driver.get(base + "/#upstreams");
        By dead = By.cssSelector("tr[data-upstream='dead.example']");
        browser.await().until(ExpectedConditions.textToBePresentInElementLocated(dead, "last error"));
        String text = browser.driver.findElement(dead).getText();
        assertTrue(text.contains("down") && text.contains("skipped until"), text);
        assertFalse(text.contains(UPSTREAM_PASSWORD) || text.contains("robot"), text);
        String live = browser.driver.findElement(By.cssSelector("tr[data-upstream='docker.io']")).getText();
        assertTrue(live.contains("up") && !live.contains("down"), live);
        browser.screenshot("upstreams");
    }

    @Test
    @Order(7)
    void theOverviewShowsTheCacheAndItsCharts() throws Exception {
        browser.driver.get(base + "/#overview");
        browser.await().until(ExpectedConditions.textToBePresentInElementLocated(By.id("cards"), "Blob hit ratio"));
        String cards = browser.driver.findElement(By.id("cards")).getText();
        assertTrue(cards.contains("Saved by shared layers") && cards.contains("Reclaimable"), cards);
        assertEquals(List.of("docker.io"), browser.driver.findElements(By.cssSelector("#charts-upstreams h3")).stream()
                .map(WebElement::getText).toList(), "a chart for the upstream that served something, none for the others");
        assertEquals(2, browser.driver.findElements(By.cssSelector("#charts-upstreams svg polyline")).size(),
                "served from the cache, and fetched");
        String sizeLine = browser.driver.findElement(By.cssSelector("#chart-size polyline")).getAttribute("points");
        assertTrue(sizeLine.split(" ").length >= 2, "a sample at start, and one now: " + sizeLine);
        assertFalse(cards.contains("Cluster"), "a single node has no cluster card: " + cards);
        assertFalse(browser.driver.findElement(By.id("nav-cluster")).isDisplayed(), "nor a Cluster link");
        browser.screenshot("overview");
        browser.driver.get(base + "/#cluster");
        browser.await().until(ExpectedConditions.visibilityOfElementLocated(By.id("cluster-none")));
        assertTrue(browser.driver.findElement(By.id("cluster-none")).getText().startsWith("This node is not in a cluster"));
        assertFalse(browser.driver.findElement(By.id("cluster-view")).isDisplayed());
        browser.phone(true);
        try {
            browser.driver.get(base + "/#images");
            browser.await().until(ExpectedConditions.visibilityOfElementLocated(By.id("filter")));
            browser.await().until(ExpectedConditions.numberOfElementsToBeMoreThan(By.cssSelector("#image-table tbody tr"), 0));
            assertEquals(Boolean.TRUE, browser.driver.executeScript(
                    "return document.documentElement.scrollWidth <= window.innerWidth"), "no page-wide sideways scrolling");
            browser.driver.executeScript("window.scrollTo(0, 0)");
            browser.screenshot("phone-images");
        } finally {
            browser.phone(false);
        }
    }

    @Test
    @Order(8)
    void tenThousandTagsLoadFilterAndPage() throws Exception {
        Path cache = work.resolve("cache-10k");
        TagStore tags = new TagStore(new CacheLayout(cache));
        RepositoryStore repositories = RepositoryStore.open(new CacheLayout(cache));
        Instant now = Instant.now();
        for (int r = 0; r < 100; r++) {
            Route route = new Route("docker.io", new RepositoryName(String.format("team/app-%02d", r)));
            repositories.add(route);
            for (int t = 0; t < 100; t++) {
                tags.put(route, new Tag(String.format("1.0.%02d", t)), new TagStore.Resolution(app.digest(), now));
            }
        }
        // No token: the loopback admin API signs in with the fields left empty.
        try (MirrorFixture many = MirrorFixture.start(upstream.url(), cache, Map.of())) {
            String at = "http://127.0.0.1:" + many.adminPort();
            browser.signInWithoutToken(at);
            long start = System.nanoTime();
            browser.driver.get(at + "/#images");
            browser.await().until(ExpectedConditions.textToBe(By.id("count"), "10000 tags"));
            long loaded = System.nanoTime();
            assertEquals(50, rows(50).size(), "one page of 50");
            browser.driver.findElement(By.id("filter")).sendKeys("app-42:");
            browser.await().until(ExpectedConditions.textToBe(By.id("count"), "100 tags"));
            long filtered = System.nanoTime();
            browser.driver.findElement(By.id("next")).click();
            browser.await().until(ExpectedConditions.textToBe(By.id("page"), "51–100 of 100"));
            assertEquals("docker.io/team/app-42:1.0.50", rows(50).get(0).getAttribute("data-image"));
            assertTrue(browser.driver.findElement(By.id("next")).getAttribute("disabled") != null);
            System.out.printf("ConsoleIT: 10000 tags: the images page showed its first page %d ms after the"
                    + " navigation, a filter's answer %d ms after typing (including the 200 ms debounce)%n",
                    (loaded - start) / 1_000_000, (filtered - loaded) / 1_000_000);
        }
    }

    @Test
    @Order(9)
    void theBrowserConsoleShowsNoErrorAndNoPageHoldsASecret() {
        assertOnlyErrorsAbout();
        assertFalse(browser.driver.getPageSource().contains(TOKEN));
        assertFalse(browser.driver.getPageSource().contains(UPSTREAM_PASSWORD));
    }

    private static void signIn(String token) {
        WebElement field = browser.await().until(ExpectedConditions.visibilityOfElementLocated(By.id("token")));
        field.clear();
        field.sendKeys(token);
        browser.driver.findElement(By.id("signin")).click();
    }

    private static List<WebElement> rows(int count) {
        By rows = By.cssSelector("#image-table tbody tr");
        browser.await().until(ExpectedConditions.numberOfElementsToBe(rows, count));
        return browser.driver.findElements(rows);
    }

    private static void assertOnlyErrorsAbout(String... expected) {
        browser.assertOnlyErrorsAbout(expected);
    }

    private static Set<Digest> blobGetDigests() {
        Set<Digest> digests = new HashSet<>();
        for (LoggedRequest request : upstream.blobGets()) {
            digests.add(Digest.parse(request.path().substring(request.path().lastIndexOf('/') + 1)));
        }
        return digests;
    }
}
