package dev.regmirror.server.v2;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertSame;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.regmirror.core.blob.FileBlobStore;
import dev.regmirror.core.mirror.PullThroughBlobs;
import dev.regmirror.core.mirror.RegistryClients;
import dev.regmirror.core.mirror.StorageHealth;
import dev.regmirror.core.reference.Digest;
import dev.regmirror.core.reference.RepositoryName;
import dev.regmirror.core.upstream.Route;
import dev.regmirror.server.http.BlobResponder;
import dev.regmirror.server.http.ErrorResponder;
import io.netty.channel.FileRegion;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.LastHttpContent;
import java.nio.file.Path;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A cache hit as the channel sees it: headers, then the file itself, never a copy through the heap. */
class BlobHandlerTest {

    @TempDir
    Path dir;

    @Test
    void aCachedBlobGoesOutAsAFileRegion() throws Exception {
        byte[] bytes = new byte[100_000];
        new Random(5).nextBytes(bytes);
        Digest digest = Digest.sha256Of(bytes);
        FileBlobStore store = FileBlobStore.open(dir);
        store.put(digest, bytes);
        PullThroughBlobs blobs = new PullThroughBlobs(new RegistryClients(List.of()), store, Runnable::run,
                null, java.time.Duration.ofMinutes(5), new StorageHealth(java.time.Clock.systemUTC(),
                        java.time.Duration.ofSeconds(30), new io.micrometer.core.instrument.simple.SimpleMeterRegistry()));
        EmbeddedChannel channel = new EmbeddedChannel(
                new BlobHandler(blobs, new BlobResponder(Runnable::run), new ErrorResponder(new ObjectMapper())));

        channel.writeInbound(new V2Request.Blob(HttpMethod.GET, true,
                new Route("docker.io", new RepositoryName("library/alpine")), digest));
        channel.runPendingTasks();

        HttpResponse response = assertInstanceOf(HttpResponse.class, channel.readOutbound());
        assertEquals(200, response.status().code());
        assertEquals(String.valueOf(bytes.length), response.headers().get("Content-Length"));
        assertEquals(digest.toString(), response.headers().get("Docker-Content-Digest"));
        FileRegion body = assertInstanceOf(FileRegion.class, channel.readOutbound());
        assertEquals(bytes.length, body.count());
        body.release();
        assertSame(LastHttpContent.EMPTY_LAST_CONTENT, channel.readOutbound());
        assertFalse(channel.finishAndReleaseAll());
    }
}
