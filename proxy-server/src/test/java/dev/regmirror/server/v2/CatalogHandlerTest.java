package dev.regmirror.server.v2;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.regmirror.core.blob.FileBlobStore;
import dev.regmirror.core.cache.RepositoryStore;
import dev.regmirror.core.hosted.HostedStore;
import dev.regmirror.core.reference.Digest;
import dev.regmirror.core.reference.RepositoryName;
import dev.regmirror.core.upstream.Route;
import dev.regmirror.server.http.ErrorResponder;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpMethod;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Optional;
import java.util.OptionalInt;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The catalog merges cached repositories and hosted ones in lexical order, paged across both. */
class CatalogHandlerTest {

    private static final ObjectMapper MAPPER = new ObjectMapper();

    @TempDir
    Path dir;

    private FileBlobStore blobs;
    private EmbeddedChannel channel;

    @BeforeEach
    void open() throws Exception {
        blobs = FileBlobStore.open(dir);
        RepositoryStore cached = RepositoryStore.open(blobs.layout());
        cached.add(new Route("docker.io", new RepositoryName("library/a")));
        cached.add(new Route("docker.io", new RepositoryName("library/z")));
        HostedStore hosted = HostedStore.open(blobs.layout(), blobs.index());
        Digest digest = Digest.sha256Of("m".getBytes(StandardCharsets.UTF_8));
        hosted.linkManifest(Route.hosted("local", new RepositoryName("lan/b")), digest);
        hosted.linkManifest(Route.hosted("local", new RepositoryName("lan/app")), digest);
        channel = new EmbeddedChannel(new CatalogHandler(cached, Optional.of(hosted), Runnable::run, MAPPER,
                new ErrorResponder(MAPPER)));
    }

    @AfterEach
    void close() throws Exception {
        assertFalse(channel.finishAndReleaseAll());
        blobs.close();
    }

    private FullHttpResponse page(int n, String last) {
        channel.writeInbound(new V2Request.Catalog(HttpMethod.GET, true, OptionalInt.of(n), Optional.ofNullable(last),
                V2Request.Origin.NONE));
        channel.runPendingTasks();
        return channel.readOutbound();
    }

    @Test
    void pagesRunAcrossCachedAndHostedNamesInLexicalOrder() throws Exception {
        FullHttpResponse first = page(3, null);
        assertEquals("[\"docker.io/library/a\",\"docker.io/library/z\",\"lan/app\"]",
                MAPPER.readTree(first.content().toString(StandardCharsets.UTF_8)).get("repositories").toString());
        assertEquals("</v2/_catalog?n=3&last=lan%2Fapp>; rel=\"next\"", first.headers().get("Link"));
        first.release();

        FullHttpResponse second = page(3, "lan/app");
        assertEquals("[\"lan/b\"]",
                MAPPER.readTree(second.content().toString(StandardCharsets.UTF_8)).get("repositories").toString());
        assertNull(second.headers().get("Link"));
        second.release();

        FullHttpResponse middle = page(1, "docker.io/library/a");
        assertEquals("[\"docker.io/library/z\"]",
                MAPPER.readTree(middle.content().toString(StandardCharsets.UTF_8)).get("repositories").toString());
        assertEquals("</v2/_catalog?n=1&last=docker.io%2Flibrary%2Fz>; rel=\"next\"", middle.headers().get("Link"));
        middle.release();
    }
}
