package dev.regmirror.server.cluster;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.regmirror.core.cluster.NodeAddress;
import dev.regmirror.server.http.ErrorResponder;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.http.DefaultFullHttpRequest;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpVersion;
import java.nio.charset.StandardCharsets;
import java.util.Set;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The node endpoint's gate: nothing without the secret (a wrong one, another scheme, a prefix of
 * it), GET only, the node's own upstreams only, valid names and digests; other paths pass on.
 * Requests refused here never reach the blobs (none are given).
 */
class NodeHandlerTest {

    private static final byte[] SECRET = "0123456789abcdef-secret".getBytes(StandardCharsets.UTF_8);
    private static final String DIGEST = "sha256:" + "ab".repeat(32);

    private final EmbeddedChannel channel = new EmbeddedChannel(new NodeHandler(NodeAddress.parse("10.0.0.1:5000"),
            SECRET, null, null, null, Set.of("docker.io"), new ErrorResponder(new ObjectMapper()), false));

    @AfterEach
    void noLeaks() {
        assertFalse(channel.finishAndReleaseAll());
    }

    private FullHttpResponse send(HttpMethod method, String uri, String authorization) {
        FullHttpRequest request = new DefaultFullHttpRequest(HttpVersion.HTTP_1_1, method, uri);
        if (authorization != null) {
            request.headers().set("Authorization", authorization);
        }
        channel.writeInbound(request);
        return channel.readOutbound();
    }

    private static String body(FullHttpResponse response) {
        try {
            return response.content().toString(StandardCharsets.UTF_8);
        } finally {
            response.release();
        }
    }

    @Test
    void withoutTheSecretEveryNodePathIs401WithABasicChallenge() {
        String right = NodeHandler.authorization(SECRET);
        for (String authorization : new String[] {null, "", NodeHandler.authorization("wrong".getBytes()),
                right.substring(0, right.length() - 2), right + "x", "Bearer " + new String(SECRET),
                right.toLowerCase()}) {
            for (String path : new String[] {"/_regmirror/cluster/health",
                    "/_regmirror/cluster/docker.io/v2/library/alpine/blobs/" + DIGEST,
                    "/_regmirror/cluster/docker.io/v2/library/alpine/manifests/latest", "/_regmirror/cluster/x"}) {
                FullHttpResponse response = send(HttpMethod.GET, path, authorization);
                assertEquals(401, response.status().code(), path + " with " + authorization);
                assertEquals("Basic realm=\"regmirror cluster\"", response.headers().get("WWW-Authenticate"));
                assertTrue(body(response).contains("\"code\":\"UNAUTHORIZED\""));
            }
        }
    }

    @Test
    void withTheSecretHealthAnswersTheNodesAddress() {
        FullHttpResponse response = send(HttpMethod.GET, "/_regmirror/cluster/health", NodeHandler.authorization(SECRET));
        assertEquals(200, response.status().code());
        assertEquals("{\"node\":\"10.0.0.1:5000\"}", body(response));
    }

    @Test
    void onlyGetOfTheNodesOwnUpstreamsWithValidNamesAndReferences() {
        String auth = NodeHandler.authorization(SECRET);
        assertEquals(405, status(send(HttpMethod.PUT, "/_regmirror/cluster/health", auth)));
        assertEquals(405, status(send(HttpMethod.HEAD, "/_regmirror/cluster/health", auth)));
        assertEquals(404, status(send(HttpMethod.GET, "/_regmirror/cluster/ghcr.io/v2/org/tool/blobs/" + DIGEST, auth)));
        assertEquals(404, status(send(HttpMethod.GET, "/_regmirror/cluster/docker.io/v2/blobs/" + DIGEST, auth)));
        assertEquals(404, status(send(HttpMethod.GET, "/_regmirror/cluster/docker.io/library/alpine/blobs/" + DIGEST,
                auth)));
        assertEquals(400, status(send(HttpMethod.GET, "/_regmirror/cluster/docker.io/v2/library/Alpine/blobs/" + DIGEST,
                auth)));
        assertEquals(400, status(send(HttpMethod.GET, "/_regmirror/cluster/docker.io/v2/library/alpine/blobs/sha256:zz",
                auth)));
        assertEquals(405, status(send(HttpMethod.HEAD, "/_regmirror/cluster/docker.io/v2/library/alpine/manifests/latest",
                auth)));
        assertEquals(404, status(send(HttpMethod.GET, "/_regmirror/cluster/ghcr.io/v2/org/tool/manifests/latest", auth)));
        assertEquals(400, status(send(HttpMethod.GET, "/_regmirror/cluster/docker.io/v2/library/alpine/manifests/-bad",
                auth)));
        assertEquals(400, status(send(HttpMethod.GET, "/_regmirror/cluster/docker.io/v2/library/alpine/manifests/",
                auth)));
        assertEquals(400, status(send(HttpMethod.GET,
                "/_regmirror/cluster/docker.io/v2/library/alpine/manifests/sha256:zz", auth)));
    }

    @Test
    void otherPathsPassOnUntouched() {
        FullHttpRequest request = new DefaultFullHttpRequest(HttpVersion.HTTP_1_1, HttpMethod.GET,
                "/v2/_regmirror/cluster/health");
        channel.writeInbound(request);
        FullHttpRequest passed = channel.readInbound();
        assertEquals("/v2/_regmirror/cluster/health", passed.uri());
        passed.release();
    }

    private static int status(FullHttpResponse response) {
        int code = response.status().code();
        response.release();
        return code;
    }
}
