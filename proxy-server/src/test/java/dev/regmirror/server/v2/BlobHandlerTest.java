package dev.regmirror.server.v2;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.regmirror.core.blob.FileBlobStore;
import dev.regmirror.core.mirror.PullThroughBlobs;
import dev.regmirror.core.mirror.RegistryClients;
import dev.regmirror.core.mirror.StorageHealth;
import dev.regmirror.core.reference.Digest;
import dev.regmirror.core.reference.RepositoryName;
import dev.regmirror.core.upstream.Route;
import dev.regmirror.server.http.BlobResponder;
import dev.regmirror.server.http.ByteRange;
import dev.regmirror.server.http.ErrorResponder;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.netty.channel.FileRegion;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.util.ReferenceCountUtil;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import java.util.Random;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A cache hit as the channel sees it: headers, then the file itself (or the asked-for part of it),
 * never a copy through the heap.
 */
class BlobHandlerTest {

    private static final Route ROUTE = new Route("docker.io", new RepositoryName("library/alpine"));

    @TempDir
    Path dir;

    private final byte[] bytes = new byte[100_000];
    private Digest digest;
    private final ScheduledExecutorService scheduler = Executors.newSingleThreadScheduledExecutor();
    private EmbeddedChannel channel;

    @AfterEach
    void stopScheduler() {
        scheduler.shutdownNow();
    }

    @BeforeEach
    void cacheOneBlob() throws Exception {
        new Random(5).nextBytes(bytes);
        digest = Digest.sha256Of(bytes);
        FileBlobStore store = FileBlobStore.open(dir);
        store.put(digest, bytes);
        channel = channelOn(store);
    }

    private EmbeddedChannel channelOn(FileBlobStore store) {
        PullThroughBlobs blobs = new PullThroughBlobs(new RegistryClients(List.of()), store, Runnable::run, scheduler,
                Duration.ofMinutes(1), new StorageHealth(Clock.systemUTC(), Duration.ofMinutes(1), new SimpleMeterRegistry()),
                new SimpleMeterRegistry());
        return new EmbeddedChannel(
                new BlobHandler(blobs, new BlobResponder(Runnable::run, new SimpleMeterRegistry()), new ErrorResponder(new ObjectMapper())));
    }

    private void request(HttpMethod method, String range) {
        channel.writeInbound(new V2Request.Blob(method, true, ROUTE, digest, ByteRange.parse(range), V2Request.Origin.NONE));
        channel.runPendingTasks();
    }

    @Test
    void aCachedBlobGoesOutAsAFileRegion() {
        request(HttpMethod.GET, null);

        HttpResponse response = assertInstanceOf(HttpResponse.class, channel.readOutbound());
        assertEquals(200, response.status().code());
        assertEquals(String.valueOf(bytes.length), response.headers().get("Content-Length"));
        assertEquals(digest.toString(), response.headers().get("Docker-Content-Digest"));
        assertEquals("bytes", response.headers().get("Accept-Ranges"));
        FileRegion body = assertInstanceOf(FileRegion.class, channel.readOutbound());
        assertEquals(0, body.position());
        assertEquals(bytes.length, body.count());
        body.release();
        assertSame(LastHttpContent.EMPTY_LAST_CONTENT, channel.readOutbound());
        assertFalse(channel.finishAndReleaseAll());
    }

    @Test
    void aSentBlobCanBeEvictedAgain() throws Exception {
        assertFalse(channel.finishAndReleaseAll());
        FileBlobStore capped = FileBlobStore.open(dir.resolve("capped"), bytes.length);
        capped.put(digest, bytes);
        channel = channelOn(capped);

        request(HttpMethod.GET, "bytes=0-9");
        for (Object message; (message = channel.readOutbound()) != null; ) {
            ReferenceCountUtil.release(message);
        }
        byte[] other = Arrays.copyOf(bytes, bytes.length);
        other[0]++;
        capped.put(Digest.sha256Of(other), other);
        assertTrue(capped.find(digest).isEmpty(), "sent, unpinned, and evicted once past the cap");
        assertFalse(channel.finishAndReleaseAll());
    }

    @Test
    void aRangeOfACachedBlobGoesOutAsThatPartOfTheFile() {
        request(HttpMethod.GET, "bytes=1000-1999");

        HttpResponse response = assertInstanceOf(HttpResponse.class, channel.readOutbound());
        assertEquals(206, response.status().code());
        assertEquals("bytes 1000-1999/100000", response.headers().get("Content-Range"));
        assertEquals("1000", response.headers().get("Content-Length"));
        assertEquals(digest.toString(), response.headers().get("Docker-Content-Digest"));
        assertEquals("\"" + digest + "\"", response.headers().get("ETag"));
        assertEquals("bytes", response.headers().get("Accept-Ranges"));
        FileRegion body = assertInstanceOf(FileRegion.class, channel.readOutbound());
        assertEquals(1000, body.position());
        assertEquals(1000, body.count());
        body.release();
        assertSame(LastHttpContent.EMPTY_LAST_CONTENT, channel.readOutbound());
        assertFalse(channel.finishAndReleaseAll());
    }

    @Test
    void aRangePastTheEndIs416WithTheBlobSize() throws Exception {
        request(HttpMethod.GET, "bytes=100000-");

        FullHttpResponse response = assertInstanceOf(FullHttpResponse.class, channel.readOutbound());
        assertEquals(416, response.status().code());
        assertEquals("bytes */100000", response.headers().get("Content-Range"));
        JsonNode error = new ObjectMapper().readTree(response.content().toString(StandardCharsets.UTF_8))
                .get("errors").get(0);
        assertEquals("RANGE_INVALID", error.get("code").asText());
        response.release();
        assertFalse(channel.finishAndReleaseAll());
    }

    @Test
    void headWithARangeAnswersTheHeadersOfThe206() {
        request(HttpMethod.HEAD, "bytes=-10");

        HttpResponse response = assertInstanceOf(HttpResponse.class, channel.readOutbound());
        assertEquals(206, response.status().code());
        assertEquals("bytes 99990-99999/100000", response.headers().get("Content-Range"));
        assertEquals("10", response.headers().get("Content-Length"));
        assertSame(LastHttpContent.EMPTY_LAST_CONTENT, channel.readOutbound());
        assertFalse(channel.finishAndReleaseAll());
    }

    @Test
    void aRangeThatIsIgnoredSendsTheWholeBlob() {
        request(HttpMethod.GET, "bytes=0-1,5-6");

        HttpResponse response = assertInstanceOf(HttpResponse.class, channel.readOutbound());
        assertEquals(200, response.status().code());
        FileRegion body = assertInstanceOf(FileRegion.class, channel.readOutbound());
        assertEquals(bytes.length, body.count());
        body.release();
        assertSame(LastHttpContent.EMPTY_LAST_CONTENT, channel.readOutbound());
        assertFalse(channel.finishAndReleaseAll());
    }

    @Test
    void headWithoutARangeSaysRangesAreAccepted() {
        request(HttpMethod.HEAD, null);

        HttpResponse response = assertInstanceOf(HttpResponse.class, channel.readOutbound());
        assertEquals(200, response.status().code());
        assertEquals("bytes", response.headers().get("Accept-Ranges"));
        assertEquals(String.valueOf(bytes.length), response.headers().get("Content-Length"));
        assertSame(LastHttpContent.EMPTY_LAST_CONTENT, channel.readOutbound());
        assertFalse(channel.finishAndReleaseAll());
    }
}
