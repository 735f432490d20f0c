package dev.regmirror.server.pipeline;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.http.DefaultFullHttpRequest;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpVersion;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** Route classification and timing of {@link RequestMetricsHandler}. */
class RequestMetricsHandlerTest {

    @ParameterizedTest
    @CsvSource({
            "/v2/, base",
            "/v2, base",
            "/v2/library/alpine/manifests/3.19, manifest",
            "/v2/ghcr.io/org/app/manifests/sha256:abc, manifest",
            "/ghcr.io/v2/org/app/blobs/sha256:abc, blob",
            "/v2/team/blobs/blobs/sha256:abc, blob",
            "/v2/team/manifests/tags/list, tags",
            "/v2/lan/app/blobs/uploads/, upload",
            "/v2/lan/app/blobs/uploads, upload",
            "/local/v2/lan/app/blobs/uploads/0b9a8b6e-8c1e-4a39-9d0e-2f6f4a1b2c3d, upload",
            "/v2/_catalog, catalog",
            "/v2/library/alpine/referrers/sha256:abc, referrers",
            "/metrics, metrics",
            "/readyz, readyz",
            "/favicon.ico, other",
            "/v2/library/alpine/whatever, other",
    })
    void routesComeFromAFixedSet(String path, String route) {
        assertEquals(route, RequestMetricsHandler.route(path));
    }

    @Test
    void eachAnsweredRequestIsTimedByRouteMethodAndStatus() {
        SimpleMeterRegistry meters = new SimpleMeterRegistry();
        EmbeddedChannel channel = new EmbeddedChannel(new RequestMetricsHandler(meters));
        channel.writeInbound(new DefaultFullHttpRequest(HttpVersion.HTTP_1_1, HttpMethod.GET, "/v2/app/blobs/sha256:ab"));
        channel.writeInbound(new DefaultFullHttpRequest(HttpVersion.HTTP_1_1, HttpMethod.valueOf("BREW"), "/v2/"));
        channel.writeOutbound(new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.NOT_FOUND,
                Unpooled.EMPTY_BUFFER));
        channel.close();

        assertEquals(1, meters.get("regmirror.requests").tags("route", "blob", "method", "GET", "status", "404").timer().count());
        assertEquals(1, meters.get("regmirror.requests").tags("route", "base", "method", "other", "status", "aborted")
                .timer().count(), "the client left before the second answer");
        assertEquals(2, channel.inboundMessages().size(), "requests pass on");
        assertEquals(1, channel.outboundMessages().size(), "the answer goes out");
        channel.finishAndReleaseAll();
    }

    @Test
    void a100ContinueIsNotTheAnswerThatIsTimed() {
        SimpleMeterRegistry meters = new SimpleMeterRegistry();
        EmbeddedChannel channel = new EmbeddedChannel(new RequestMetricsHandler(meters));
        channel.writeInbound(new io.netty.handler.codec.http.DefaultHttpRequest(HttpVersion.HTTP_1_1, HttpMethod.PUT,
                "/v2/lan/app/blobs/uploads/u?digest=sha256:ab"));
        channel.writeOutbound(new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.CONTINUE,
                Unpooled.EMPTY_BUFFER));
        assertEquals(0, meters.find("regmirror.requests").timers().size());
        channel.writeOutbound(new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.CREATED,
                Unpooled.EMPTY_BUFFER));

        assertEquals(1, meters.get("regmirror.requests").tags("route", "upload", "method", "PUT", "status", "201")
                .timer().count());
        channel.finishAndReleaseAll();
    }
}
