package dev.regmirror.core.admin;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.code_intelligence.jazzer.junit.FuzzTest;
import dev.regmirror.core.blob.ManifestStore;
import dev.regmirror.core.config.HostedSettings;
import dev.regmirror.core.error.InvalidRequestException;
import dev.regmirror.core.storage.CacheStorage;
import dev.regmirror.core.upstream.Endpoint;
import dev.regmirror.core.upstream.EndpointSettings;
import dev.regmirror.core.upstream.UpstreamRouter;
import dev.regmirror.core.upstream.UpstreamSettings;
import java.io.IOException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;

/**
 * Fuzzes {@code POST /admin/import} with any bytes as the uploaded archive, into a real cache
 * directory with a hosted registry: the import either succeeds, with every imported manifest then
 * in the cache, or is refused with a 400 {@link InvalidRequestException}, never another exception;
 * and whatever the archive's names and links say, nothing is written outside the cache directory
 * (Jazzer's file path traversal sanitizer watches every file access besides).
 */
class ArchiveImportFuzzTest {

    private static final UpstreamRouter ROUTER = new UpstreamRouter(List.of(
            new UpstreamSettings("docker.io", List.of(), List.of(), "library",
                    List.of(Endpoint.of(EndpointSettings.anonymous("docker.io", URI.create("http://127.0.0.1:1"),
                            Duration.ofSeconds(1), Duration.ofSeconds(1)))), Duration.ofSeconds(30))),
            "docker.io", Map.of(), new HostedSettings("local", List.of("lan"), List.of(), Duration.ofHours(1), false,
                    false, 4 << 20));
    private static final Path BASE;

    static {
        try {
            BASE = Files.createTempDirectory("regmirror-import-fuzz").toRealPath();
        } catch (IOException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    @AfterAll
    static void removeTheDirectory() throws IOException {
        delete(BASE);
    }

    @FuzzTest
    void anyArchiveImportsOrIsRefusedAs400WithinTheCache(byte[] archive) throws IOException {
        Path work = BASE.resolve("run");
        delete(work);
        Path cache = work.resolve("cache");
        Path tar = work.resolve("upload.tar");
        Files.createDirectories(cache);
        Files.write(tar, archive);
        try (CacheStorage storage = CacheStorage.open(cache, 0, true, Clock.systemUTC())) {
            ManifestStore manifests = storage.manifests();
            ArchiveImport imports = new ArchiveImport(storage, ROUTER, Clock.systemUTC());
            try {
                List<ArchiveImport.Imported> imported = imports.run(tar);
                assertFalse(imported.isEmpty(), "an import that succeeds imports an image");
                for (ArchiveImport.Imported image : imported) {
                    assertTrue(manifests.get(image.digest()).isPresent(), "manifest of " + image + " is cached");
                }
            } catch (InvalidRequestException e) {
                assertEquals(400, e.status(), e.code() + ": " + e.getMessage());
            }
        }
        try (Stream<Path> written = Files.walk(BASE)) {
            written.forEach(path -> assertTrue(path.equals(BASE) || path.equals(work) || path.equals(tar)
                    || path.startsWith(cache), "written outside the cache: " + path));
        }
        assertEquals(archive.length, Files.size(tar), "the upload itself is untouched");
    }

    private static void delete(Path directory) throws IOException {
        if (!Files.exists(directory)) {
            return;
        }
        try (Stream<Path> paths = Files.walk(directory)) {
            for (Path path : paths.sorted(Comparator.reverseOrder()).toList()) {
                Files.delete(path);
            }
        }
    }
}
