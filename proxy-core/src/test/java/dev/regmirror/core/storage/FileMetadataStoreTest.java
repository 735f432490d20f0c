package dev.regmirror.core.storage;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@link FileMetadataStore} under the {@link MetadataStoreContract}, and what it leaves on disk. */
class FileMetadataStoreTest extends MetadataStoreContract {

    @TempDir
    Path dir;

    @Override
    protected MetadataStore store() throws IOException {
        return new FileMetadataStore(new CacheLayout(dir.resolve("cache")));
    }

    @Test
    void aKeyIsAFileUnderTheRootAndNoScratchFileIsLeft() throws IOException {
        store().write("tags/docker.io/library/nginx/:latest", new byte[] {1, 2});
        assertEquals(2, Files.size(dir.resolve("cache/tags/docker.io/library/nginx/:latest")));
        try (Stream<Path> scratch = Files.list(dir.resolve("cache/ingest"))) {
            assertEquals(0, scratch.count());
        }
    }
}
