package dev.regmirror.server.pipeline;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.regmirror.core.reference.Tag;
import dev.regmirror.core.upstream.Endpoint;
import dev.regmirror.core.upstream.EndpointSettings;
import dev.regmirror.core.upstream.UpstreamRouter;
import dev.regmirror.core.upstream.UpstreamSettings;
import dev.regmirror.server.http.ErrorResponder;
import dev.regmirror.server.v2.BaseHandler;
import dev.regmirror.server.v2.V2Request;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.http.DefaultFullHttpRequest;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpVersion;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** What a client sees for requests that never reach the cache: the version check and bad input. */
class V2RequestDecoderTest {

    private static final String DIGEST = "sha256:" + "ab".repeat(32);
    private static final ObjectMapper JSON = new ObjectMapper();

    private final List<V2Request> decoded = new ArrayList<>();
    private final EmbeddedChannel channel = new EmbeddedChannel(
            new V2RequestDecoder(new UpstreamRouter(List.of(
                    upstream("docker.io", "library", List.of()), upstream("ghcr.io", "", List.of("ghcr.mirror.lan"))),
                    "docker.io"), new ErrorResponder(JSON)),
            new BaseHandler(),
            new ChannelInboundHandlerAdapter() {
                @Override
                public void channelRead(ChannelHandlerContext ctx, Object msg) {
                    decoded.add((V2Request) msg);
                }
            });

    private static UpstreamSettings upstream(String registry, String prefix, List<String> hosts) {
        return new UpstreamSettings(registry, List.of(), hosts, prefix, List.of(Endpoint.of(EndpointSettings.anonymous(
                registry, URI.create("http://127.0.0.1:1"), Duration.ofSeconds(1), Duration.ofSeconds(1)))),
                Duration.ofSeconds(30));
    }

    @AfterEach
    void noLeaks() {
        assertFalse(channel.finishAndReleaseAll());
    }

    private FullHttpResponse request(HttpMethod method, String uri) {
        channel.writeInbound(new DefaultFullHttpRequest(HttpVersion.HTTP_1_1, method, uri));
        return channel.readOutbound();
    }

    private static JsonNode firstError(FullHttpResponse response) throws Exception {
        return JSON.readTree(response.content().toString(StandardCharsets.UTF_8)).get("errors").get(0);
    }

    @Test
    void versionCheckAnswers200WithTheApiHeader() {
        FullHttpResponse response = request(HttpMethod.GET, "/v2/");
        assertEquals(200, response.status().code());
        assertEquals("registry/2.0", response.headers().get("Docker-Distribution-API-Version"));
        assertEquals("{}", response.content().toString(StandardCharsets.UTF_8));
        response.release();

        FullHttpResponse head = request(HttpMethod.HEAD, "/v2");
        assertEquals(200, head.status().code());
        assertEquals("2", head.headers().get(HttpHeaderNames.CONTENT_LENGTH));
        assertEquals(0, head.content().readableBytes());
        head.release();
    }

    @Test
    void decodesManifestAndBlobRequestsWithDockerHubNaming() {
        channel.writeInbound(new DefaultFullHttpRequest(HttpVersion.HTTP_1_1, HttpMethod.GET, "/v2/alpine/manifests/3.20"));
        channel.writeInbound(new DefaultFullHttpRequest(HttpVersion.HTTP_1_1, HttpMethod.HEAD,
                "/v2/org/app/blobs/" + DIGEST + "?ns=docker.io"));
        V2Request.Manifest manifest = assertInstanceOf(V2Request.Manifest.class, decoded.get(0));
        assertEquals("docker.io/library/alpine", manifest.route().toString());
        assertEquals(new Tag("3.20"), manifest.reference());
        V2Request.Blob blob = assertInstanceOf(V2Request.Blob.class, decoded.get(1));
        assertEquals("docker.io/org/app", blob.route().toString());
        assertEquals(DIGEST, blob.digest().toString());
        assertNull(channel.readOutbound());
    }

    @ParameterizedTest
    @CsvSource({
        "/v2/ghcr.io/org/tool/manifests/1,          , ghcr.io/org/tool",
        "/v2/org/tool/manifests/1?ns=ghcr.io,       , ghcr.io/org/tool",
        "/ghcr.io/v2/org/tool/manifests/1,          , ghcr.io/org/tool",
        "/docker.io/v2/library/nginx/manifests/1,   , docker.io/library/nginx",
        "/v2/org/tool/manifests/1,   ghcr.mirror.lan:5000, ghcr.io/org/tool",
        "/v2/org/tool/manifests/1,   mirror.lan:5000, docker.io/org/tool",
        "/v2/docker.io/nginx/manifests/1,           , docker.io/library/nginx",
    })
    void routesEveryRequestForm(String uri, String host, String route) {
        DefaultFullHttpRequest request = new DefaultFullHttpRequest(HttpVersion.HTTP_1_1, HttpMethod.GET, uri);
        if (host != null) {
            request.headers().set(HttpHeaderNames.HOST, host);
        }
        channel.writeInbound(request);
        assertEquals(route, ((V2Request.Manifest) decoded.get(0)).route().toString());
    }

    @Test
    void decodesTagListsAndTheCatalogWithTheirPages() {
        channel.writeInbound(new DefaultFullHttpRequest(HttpVersion.HTTP_1_1, HttpMethod.GET,
                "/ghcr.io/v2/org/tool/tags/list?n=10&last=v1&ns=ghcr.io"));
        channel.writeInbound(new DefaultFullHttpRequest(HttpVersion.HTTP_1_1, HttpMethod.GET, "/v2/_catalog?n=5"));
        V2Request.Tags tags = assertInstanceOf(V2Request.Tags.class, decoded.get(0));
        assertEquals("ghcr.io/org/tool", tags.route().toString());
        assertEquals("org/tool", tags.requestedName());
        assertEquals("/ghcr.io/v2/org/tool/tags/list", tags.path());
        assertEquals(10, tags.n().getAsInt());
        assertEquals("v1", tags.last().orElseThrow());
        V2Request.Catalog catalog = assertInstanceOf(V2Request.Catalog.class, decoded.get(1));
        assertEquals(5, catalog.n().getAsInt());
    }

    @ParameterizedTest
    @CsvSource({
        "GET, /v2/Alpine/manifests/latest, 400, NAME_INVALID",
        "GET, /v2/../../etc/passwd/blobs/sha256:abababababababababababababababababababababababababababababababab, 400, NAME_INVALID",
        "GET, /v2/a%2Fb/manifests/latest, 400, NAME_INVALID",
        "GET, /v2/a/%2e%2e/manifests/latest, 400, NAME_INVALID",
        "GET, //v2/alpine/manifests/latest, 404, NOT_FOUND",
        "GET, /v2//alpine/manifests/latest, 400, NAME_INVALID",
        "GET, /v2/alpine/manifests/-bad, 404, MANIFEST_UNKNOWN",
        "GET, /v2/alpine/manifests/.INVALID, 404, MANIFEST_UNKNOWN",
        "GET, /v2/alpine/manifests/sha256:xyz, 400, DIGEST_INVALID",
        "GET, /v2/alpine/blobs/latest, 400, DIGEST_INVALID",
        "GET, /v2/alpine/blobs/md5:d41d8cd98f00b204e9800998ecf8427e, 400, DIGEST_INVALID",
        "GET, /v2/alpine/things/x, 404, NOT_FOUND",
        "GET, /v2/quay.io/org/tool/manifests/1, 404, NAME_UNKNOWN",
        "GET, /v2/org/tool/manifests/1?ns=quay.io, 404, NAME_UNKNOWN",
        "GET, /quay.io/v2/org/tool/manifests/1, 404, NOT_FOUND",
        "GET, /v2/alpine/tags/list?n=x, 400, PAGINATION_NUMBER_INVALID",
        "GET, /v2/_catalog?n=-1, 400, PAGINATION_NUMBER_INVALID",
        "GET, /v2/_catalog?last=%zz, 400, PARAMETER_INVALID",
        "GET, /v2/alpine/tags/list?last=%, 400, PARAMETER_INVALID",
        "GET, /v2/%zz/manifests/latest, 400, NAME_INVALID",
        "GET, /etc/passwd, 404, NOT_FOUND",
        "PUT, /v2/alpine/manifests/latest, 405, UNSUPPORTED",
        "POST, /v2/alpine/blobs/uploads/, 405, UNSUPPORTED",
        "DELETE, /v2/alpine/blobs/sha256:abababababababababababababababababababababababababababababababab, 405, UNSUPPORTED",
    })
    void badInputGetsARegistryError(String method, String uri, int status, String code) throws Exception {
        FullHttpResponse response = request(HttpMethod.valueOf(method), uri);
        assertEquals(status, response.status().code(), uri);
        assertEquals(code, firstError(response).get("code").asText(), uri);
        assertEquals("application/json; charset=utf-8", response.headers().get(HttpHeaderNames.CONTENT_TYPE));
        assertEquals("registry/2.0", response.headers().get("Docker-Distribution-API-Version"));
        if (status == 405) {
            assertEquals("GET, HEAD", response.headers().get("Allow"));
        }
        response.release();
        assertEquals(List.of(), decoded, "nothing invalid reaches the resource handlers");
    }

    @Test
    void headOfAnErrorCarriesNoBody() {
        FullHttpResponse response = request(HttpMethod.HEAD, "/v2/Bad/manifests/latest");
        assertEquals(400, response.status().code());
        assertEquals(0, response.content().readableBytes());
        response.release();
    }
}
