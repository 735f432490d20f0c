package dev.regmirror.server.v2;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.regmirror.core.cache.ReferrerStore;
import dev.regmirror.core.client.UpstreamReferrers;
import dev.regmirror.core.error.UpstreamUnavailableException;
import dev.regmirror.core.manifest.MediaTypes;
import dev.regmirror.core.manifest.ReferrerIndexes;
import dev.regmirror.core.mirror.PullThroughReferrers;
import dev.regmirror.core.mirror.RegistryClients;
import dev.regmirror.core.mirror.TagPolicy;
import dev.regmirror.core.reference.Digest;
import dev.regmirror.core.reference.RepositoryName;
import dev.regmirror.core.storage.CacheLayout;
import dev.regmirror.core.testing.MutableClock;
import dev.regmirror.core.testing.UnscriptedRegistryClient;
import dev.regmirror.core.upstream.Route;
import dev.regmirror.server.http.ErrorResponder;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpMethod;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The referrers answer as a client sees it, and hosted repositories' referrers left to their own handler. */
class ReferrersHandlerTest {

    private static final Route MIRRORED = new Route("docker.io", new RepositoryName("library/alpine"));
    private static final Digest SUBJECT = Digest.sha256Of("subject".getBytes(StandardCharsets.UTF_8));

    @TempDir
    Path dir;

    private final MutableClock clock = new MutableClock();
    private final List<Object> passedOn = new ArrayList<>();
    private CompletableFuture<UpstreamReferrers> upstreamAnswer;
    private EmbeddedChannel channel;

    @BeforeEach
    void open() throws Exception {
        UnscriptedRegistryClient upstream = new UnscriptedRegistryClient() {
            @Override
            public CompletableFuture<UpstreamReferrers> listReferrers(RepositoryName name, Digest subject,
                                                                      Optional<String> artifactType) {
                return upstreamAnswer;
            }
        };
        PullThroughReferrers referrers = new PullThroughReferrers(new RegistryClients(List.of(upstream)),
                new ReferrerStore(new CacheLayout(dir)), registry -> new TagPolicy(Duration.ofMinutes(5), Duration.ZERO, -1),
                Runnable::run, clock, new SimpleMeterRegistry());
        channel = new EmbeddedChannel(new ReferrersHandler(referrers, new ErrorResponder(new ObjectMapper())),
                new ChannelInboundHandlerAdapter() {
                    @Override
                    public void channelRead(ChannelHandlerContext ctx, Object msg) {
                        passedOn.add(msg);
                    }
                });
    }

    @AfterEach
    void noLeaks() {
        assertFalse(channel.finishAndReleaseAll());
    }

    private FullHttpResponse ask(HttpMethod method, Route route, Optional<String> artifactType) {
        channel.writeInbound(new V2Request.Referrers(method, true, route, SUBJECT, artifactType, V2Request.Origin.NONE));
        channel.runPendingTasks();
        return channel.readOutbound();
    }

    @Test
    void hostedReferrersPassOnUntouched() {
        Route hosted = new Route("local", new RepositoryName("lan/app"), true);
        upstreamAnswer = CompletableFuture.failedFuture(new AssertionError("the upstream is never asked"));

        assertNull(ask(HttpMethod.GET, hosted, Optional.empty()));
        assertEquals(1, passedOn.size());
        assertSame(hosted, ((V2Request.Referrers) passedOn.get(0)).route());
    }

    @Test
    void aFilteredListSaysSoAndHeadHasTheLengthWithoutTheBody() {
        upstreamAnswer = CompletableFuture.completedFuture(new UpstreamReferrers.None());

        FullHttpResponse get = ask(HttpMethod.GET, MIRRORED, Optional.of("application/vnd.example"));
        assertEquals(200, get.status().code());
        assertEquals(MediaTypes.OCI_INDEX, get.headers().get("Content-Type"));
        assertEquals("artifactType", get.headers().get("OCI-Filters-Applied"));
        assertEquals(ReferrerIndexes.EMPTY_JSON, get.content().toString(StandardCharsets.UTF_8));
        get.release();

        FullHttpResponse head = ask(HttpMethod.HEAD, MIRRORED, Optional.empty());
        assertEquals(200, head.status().code());
        assertNull(head.headers().get("OCI-Filters-Applied"));
        assertEquals(String.valueOf(ReferrerIndexes.EMPTY_JSON.length()), head.headers().get("Content-Length"));
        assertEquals(0, head.content().readableBytes());
        head.release();
        assertTrue(passedOn.isEmpty());
    }

    @Test
    void aStaleListCarriesAWarningAndAnUpstreamFailureWithNothingCachedIsAnError() {
        upstreamAnswer = CompletableFuture.completedFuture(new UpstreamReferrers.None());
        ask(HttpMethod.GET, MIRRORED, Optional.empty()).release();
        clock.advance(Duration.ofMinutes(6));
        upstreamAnswer = CompletableFuture.failedFuture(new UpstreamUnavailableException("docker.io",
                "list referrers: connection \"refused\"", null));

        FullHttpResponse stale = ask(HttpMethod.GET, MIRRORED, Optional.empty());
        assertEquals(200, stale.status().code());
        assertEquals("299 - \"regmirror: served from cache, the upstream could not confirm it: list referrers: "
                + "connection 'refused'\"", stale.headers().get("Warning"));
        stale.release();

        FullHttpResponse failed = ask(HttpMethod.GET, MIRRORED, Optional.of("application/vnd.example"));
        assertEquals(503, failed.status().code());
        assertTrue(failed.content().toString(StandardCharsets.UTF_8).contains("UNAVAILABLE"));
        failed.release();
    }
}
