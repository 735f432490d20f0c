package dev.regmirror.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.regmirror.core.manifest.Descriptor;
import dev.regmirror.core.manifest.MediaTypes;
import dev.regmirror.core.reference.Digest;
import dev.regmirror.core.testing.BuiltImage;
import dev.regmirror.core.testing.BuiltManifest;
import dev.regmirror.core.testing.Closing;
import dev.regmirror.core.testing.RegistryProcess;
import dev.regmirror.core.testing.S3Bucket;
import dev.regmirror.core.testing.S3ProxyProcess;
import dev.regmirror.core.testing.Skopeo;
import dev.regmirror.core.testing.TestImages;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The admin operations of a node whose cache is in an S3 bucket ({@code storage.type = s3}, a real
 * S3 server: S3Proxy), the built jar run as a user runs it, a real {@code docker-registry} as
 * docker.io and skopeo as the client: purge and prune remove exactly their objects from the bucket
 * and the next pull fetches exactly those blobs again; usage and images report what the bucket
 * holds; an export imported into a second node on an empty bucket is served without the upstream.
 */
class S3AdminCliIT {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String PREFIX = S3Nodes.PREFIX;
    private static final HttpClient HTTP = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();

    @TempDir
    static Path work;

    private static RegistryProcess upstream;
    private static S3ProxyProcess s3;
    private static Skopeo skopeo;
    /** library/app:1.0, two layers of 6 MB (more than a 5 MiB part); its first layer is also web's. */
    private static BuiltImage app;
    /** team/web:2.0, an index of one linux/amd64 image sharing app's first layer. */
    private static BuiltImage web;

    @BeforeAll
    static void start() {
        upstream = RegistryProcess.start();
        s3 = S3ProxyProcess.start();
        skopeo = new Skopeo();
        app = TestImages.singleArch(work.resolve("app"), "1.0", 2, 6_000_000, 41);
        web = TestImages.multiArch(work.resolve("web"), "2.0", List.of("linux/amd64"), 2, 6_000_000, 41);
        assertEquals(shared(), web.manifests().get(0).layers().get(0), "the images share a layer");
        skopeo.copy(app.source(), "docker://" + upstream.hostPort() + "/library/app:1.0");
        skopeo.copy(web.source(), "docker://" + upstream.hostPort() + "/team/web:2.0", "--all");
    }

    @AfterAll
    static void stop() throws Exception {
        Closing.all(skopeo, s3, upstream);
    }

    private static Descriptor shared() {
        return app.manifest().layers().get(0);
    }

    @Test
    void purgeAndPruneEmptyTheBucketOfWhatTheyRemoveAndUsageAndImagesReportIt() throws Exception {
        s3.createBucket("admin");
        int port = RegmirrorProcess.freePort();
        int adminPort = RegmirrorProcess.freePort();
        String server = "http://127.0.0.1:" + adminPort;
        try (S3Bucket bucket = new S3Bucket(s3, "admin");
             RegmirrorProcess mirror = RegmirrorProcess.serve(work, config("admin", port, adminPort, upstream.url()),
                     port, List.of())) {
            pull(port, "app:1.0");
            pull(port, "team/web:2.0");
            mirror.awaitFillsCommitted();

            JsonNode usage = JSON.readTree(admin(server, "usage", "-o", "json").output());
            assertEquals(bucket.bytes(PREFIX + "blobs/"), usage.get("totalBytes").asLong(), usage.toString());
            assertEquals(bucket.keys(PREFIX + "blobs/").size(), usage.get("blobs").asInt(), usage.toString());
            assertEquals(4 + 4, usage.get("blobs").asInt(),
                    "app: manifest, config, layers; web: index, manifest, config, its own layer; " + usage);
            assertEquals(3, usage.get("manifests").asInt(), usage.toString());
            assertEquals(shared().size(), usage.get("sharedBytesSaved").asLong(), usage.toString());
            JsonNode overHttp = JSON.readTree(get(URI.create(server + "/admin/usage")).body());
            assertEquals(usage.get("totalBytes"), overHttp.get("totalBytes"));
            String table = admin(server, "usage").output();
            assertTrue(table.startsWith("WHAT"), table);

            RegmirrorProcess.Finished images = admin(server, "images", "-o", "json");
            assertEquals(0, images.exitCode(), images.output());
            JsonNode repositories = JSON.readTree(images.output()).get("repositories");
            assertEquals(List.of("docker.io/library/app", "docker.io/team/web"), names(repositories), images.output());
            assertEquals(app.digest().toString(), repositories.get(0).get("tags").get(0).get("digest").asText());
            assertEquals(web.digest().toString(), repositories.get(1).get("tags").get(0).get("digest").asText());
            assertEquals(repositories, JSON.readTree(get(URI.create(server + "/admin/images")).body()).get("repositories"));
            String listing = admin(server, "images", "--prefix", "docker.io/library/").output();
            assertTrue(listing.contains("docker.io/library/app  1.0  " + app.digest().toString().substring(0, 19)), listing);
            assertFalse(listing.contains("team/web"), listing);

            List<String> before = cached(bucket);
            RegmirrorProcess.Finished dry = admin(server, "purge", "app:1.0", "--dry-run", "-o", "json");
            assertEquals(0, dry.exitCode(), dry.output());
            assertTrue(JSON.readTree(dry.output()).get("dryRun").asBoolean());
            assertEquals(before, cached(bucket), "a dry run removes nothing from the bucket");

            RegmirrorProcess.Finished purge = admin(server, "purge", "app:1.0", "-o", "json");
            assertEquals(0, purge.exitCode(), purge.output());
            JsonNode purged = JSON.readTree(purge.output());
            assertEquals(JSON.readTree(dry.output()).get("blobs"), purged.get("blobs"), "the dry run said what goes");
            BuiltManifest appImage = app.manifest();
            Set<Digest> appOnly = Set.of(appImage.config().digest(), appImage.layers().get(1).digest());
            assertEquals(appOnly, digests(purged.get("blobs")));
            assertEquals(Set.of(shared().digest()), digests(purged.get("keptBlobs")));
            assertEquals(app.top().size() + appImage.config().size() + appImage.layers().get(1).size(),
                    purged.get("bytesFreed").asLong());
            for (Digest gone : List.of(app.digest(), appImage.config().digest(), appImage.layers().get(1).digest())) {
                assertTrue(bucket.size(S3Bucket.blobKey(PREFIX, gone)).isEmpty(), gone + " left in the bucket");
            }
            assertTrue(bucket.size(S3Bucket.blobKey(PREFIX, shared().digest())).isPresent(), "web still uses it");
            assertEquals(List.of(), bucket.keys(PREFIX + "tags/docker.io/library/app/"));
            assertEquals(List.of(), bucket.keys(PREFIX + "repositories/docker.io/library/app/"));
            assertEquals(List.of(), bucket.keys(PREFIX + "manifests/sha256/" + app.digest().hex()));
            JsonNode after = JSON.readTree(admin(server, "usage", "-o", "json").output());
            assertEquals(bucket.bytes(PREFIX + "blobs/"), after.get("totalBytes").asLong(), after.toString());
            assertEquals(usage.get("totalBytes").asLong() - purged.get("bytesFreed").asLong(),
                    after.get("totalBytes").asLong());
            assertEquals(List.of("docker.io/team/web"),
                    names(JSON.readTree(admin(server, "images", "-o", "json").output()).get("repositories")));

            upstream.reset();
            pull(port, "team/web:2.0");
            assertEquals(List.of(), upstream.blobGets(), "web's blobs, the shared one too, are still in the bucket");
            pull(port, "app:1.0");
            assertEquals(appOnly, Set.copyOf(upstream.blobGetDigests()), "exactly the purged blobs are fetched again");
            mirror.awaitFillsCommitted();
            for (Descriptor blob : app.blobs()) {
                assertEquals(blob.size(), bucket.size(S3Bucket.blobKey(PREFIX, blob.digest())).orElse(-1),
                        blob.digest() + " back in the bucket");
            }

            // The app manifest again by digest only (untagged), for prune.
            assertEquals(0, admin(server, "purge", "app:1.0").exitCode());
            HttpResponse<byte[]> byDigest = get(URI.create("http://127.0.0.1:" + port + "/v2/library/app/manifests/"
                    + app.digest()), "Accept", MediaTypes.ACCEPT_ALL_HEADER);
            assertEquals(200, byDigest.statusCode());
            String manifestKey = S3Bucket.blobKey(PREFIX, app.digest());
            assertTrue(bucket.size(manifestKey).isPresent(), "cached again");
            RegmirrorProcess.Finished wouldPrune = admin(server, "prune", "--dry-run");
            assertEquals(0, wouldPrune.exitCode(), wouldPrune.output());
            assertTrue(wouldPrune.output().contains("manifest      " + app.digest()), wouldPrune.output());
            assertTrue(bucket.size(manifestKey).isPresent(), "a dry run removes nothing");
            RegmirrorProcess.Finished pruned = admin(server, "prune", "-o", "json");
            assertEquals(0, pruned.exitCode(), pruned.output());
            JsonNode prunedJson = JSON.readTree(pruned.output());
            assertEquals(app.digest().toString(), prunedJson.get("manifests").get(0).get("digest").asText());
            assertEquals(app.top().size(), prunedJson.get("bytesFreed").asLong());
            assertTrue(bucket.size(manifestKey).isEmpty(), "pruned from the bucket");
            assertEquals("Nothing to remove.\n", admin(server, "prune").output());

            RegmirrorProcess.Finished everything = admin(server, "purge", "--all", "--yes", "-o", "json");
            assertEquals(0, everything.exitCode(), everything.output());
            assertEquals(List.of(), bucket.keys(PREFIX + "blobs/"), "every blob gone from the bucket");
            assertEquals(0, JSON.readTree(admin(server, "usage", "-o", "json").output()).get("totalBytes").asLong());
        }
    }

    @Test
    void anExportImportedIntoANodeOnAnEmptyBucketIsServedWithoutTheUpstream() throws Exception {
        s3.createBucket("source");
        s3.createBucket("target");
        Path tar = work.resolve("app.tar");
        Path fromAdmin = work.resolve("app-admin.tar");
        int sourcePort = RegmirrorProcess.freePort();
        int sourceAdmin = RegmirrorProcess.freePort();
        try (RegmirrorProcess source = RegmirrorProcess.serve(work, config("source", sourcePort, sourceAdmin,
                upstream.url()), sourcePort, List.of())) {
            RegmirrorProcess.Finished export = RegmirrorProcess.run(work, List.of(), "export", "app:1.0",
                    "-o", tar.toString(), "--registry", "http://127.0.0.1:" + sourcePort);
            assertEquals(0, export.exitCode(), export.output());
            assertTrue(export.output().startsWith("exported app:1.0 (" + app.digest() + ", "), export.output());
            assertEquals(app.digest(), skopeo.inspectDigest("oci-archive:" + tar));
            source.awaitFillsCommitted();

            // The admin API's export reads the bucket only.
            upstream.reset();
            HttpResponse<Path> archive = HTTP.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + sourceAdmin
                    + "/admin/export?image=app:1.0")).build(), HttpResponse.BodyHandlers.ofFile(fromAdmin));
            assertEquals(200, archive.statusCode());
            assertEquals("application/x-tar", archive.headers().firstValue("Content-Type").orElse(""));
            assertEquals(app.digest(), skopeo.inspectDigest("oci-archive:" + fromAdmin));
            assertEquals(app.manifest().config().digest().toString(), JSON.readTree(skopeo.inspectRaw(
                    "docker-archive:" + fromAdmin)).path("config").path("digest").asText(), "docker load reads it too");
            assertEquals(List.of(), upstream.blobGets(), "the export came from the bucket");
        }

        upstream.reset();
        int port = RegmirrorProcess.freePort();
        int adminPort = RegmirrorProcess.freePort();
        try (S3Bucket bucket = new S3Bucket(s3, "target");
             RegmirrorProcess target = RegmirrorProcess.serve(work, config("target", port, adminPort, upstream.url()),
                     port, List.of())) {
            assertEquals(List.of(), bucket.keys(PREFIX));
            S3Nodes.awaitListening(adminPort);
            RegmirrorProcess.Finished imported = RegmirrorProcess.run(work, List.of(), "import", tar.toString(),
                    "--server", "http://127.0.0.1:" + adminPort);
            assertEquals(0, imported.exitCode(), imported.output() + target.output());
            assertTrue(imported.output().contains("docker.io/library/app  1.0  " + app.digest()), imported.output());
            for (Descriptor blob : app.blobs()) {
                assertEquals(blob.size(), bucket.size(S3Bucket.blobKey(PREFIX, blob.digest())).orElse(-1),
                        blob.digest() + " imported into the bucket");
            }
            assertTrue(bucket.size(S3Bucket.blobKey(PREFIX, app.digest())).isPresent(), "the manifest's bytes");
            assertEquals(List.of(), bucket.uploadsInProgress());

            Path pulled = work.resolve("pulled-imported");
            skopeo.copyToDir("docker://127.0.0.1:" + port + "/app:1.0", pulled);
            assertEquals(app.digest(), Digest.sha256Of(Files.readAllBytes(pulled.resolve("manifest.json"))));
            for (Descriptor blob : app.blobs()) {
                assertEquals(blob.digest(), Digest.sha256Of(Files.readAllBytes(pulled.resolve(blob.digest().hex()))));
            }
            assertEquals(List.of(), upstream.blobGets(), "no blob asked of the upstream");

            JsonNode listed = JSON.readTree(RegmirrorProcess.run(work, List.of(), "images", "--server",
                    "http://127.0.0.1:" + adminPort, "--output", "json").output());
            assertEquals(List.of("docker.io/library/app"), names(listed.get("repositories")));
        }
    }

    /** A node on the bucket, its spool in {@code <work>/<bucket>}, credentials in the file. */
    private static Path config(String bucket, int port, int adminPort, URI upstream) throws Exception {
        return S3Nodes.config(work, s3.endpoint(), bucket, port, adminPort, upstream);
    }

    /** The bucket's keys but the pull counts, which the node writes now and then. */
    private static List<String> cached(S3Bucket bucket) {
        return bucket.keys(PREFIX).stream().filter(key -> !key.equals(PREFIX + "pulls.json")).toList();
    }

    private static void pull(int port, String image) {
        skopeo.copyToDir("docker://127.0.0.1:" + port + "/" + image, work.resolve("pulled-" + System.nanoTime()));
    }

    private static RegmirrorProcess.Finished admin(String server, String... args) throws Exception {
        List<String> all = new ArrayList<>(List.of(args));
        all.addAll(List.of("--server", server));
        RegmirrorProcess.Finished finished = RegmirrorProcess.run(work, List.of(), all.toArray(String[]::new));
        assertEquals(0, finished.exitCode(), String.join(" ", args) + ": " + finished.output());
        return finished;
    }

    private static HttpResponse<byte[]> get(URI uri, String... headers) throws Exception {
        HttpRequest.Builder request = HttpRequest.newBuilder(uri);
        if (headers.length > 0) {
            request.headers(headers);
        }
        return HTTP.send(request.build(), HttpResponse.BodyHandlers.ofByteArray());
    }

    private static List<String> names(JsonNode repositories) {
        List<String> names = new ArrayList<>();
        repositories.forEach(repository -> names.add(repository.get("name").asText()));
        return names;
    }

    private static Set<Digest> digests(JsonNode descriptors) {
        Set<Digest> digests = new HashSet<>();
        descriptors.forEach(descriptor -> digests.add(Digest.parse(descriptor.get("digest").asText())));
        return digests;
    }
}
