package dev.regmirror.server.pipeline;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;

import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.http.DefaultFullHttpRequest;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpVersion;
import java.util.Set;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** Which answers echo {@code ?ns=} as {@code OCI-Namespace}, in request order. */
class NamespaceHeaderHandlerTest {

    private final EmbeddedChannel channel = new EmbeddedChannel(
            new NamespaceHeaderHandler(Set.of("docker.io", "ghcr.io", "local")::contains));

    @AfterEach
    void noLeaks() {
        assertFalse(channel.finishAndReleaseAll());
    }

    private void request(String uri) {
        DefaultFullHttpRequest request = new DefaultFullHttpRequest(HttpVersion.HTTP_1_1, HttpMethod.GET, uri);
        channel.writeInbound(request);
        ((DefaultFullHttpRequest) channel.readInbound()).release();
    }

    private String answer(HttpResponseStatus status) {
        channel.writeOutbound(new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, status));
        FullHttpResponse response = channel.readOutbound();
        String value = response.headers().get(NamespaceHeaderHandler.OCI_NAMESPACE);
        response.release();
        return value;
    }

    @Test
    void eachAnswerEchoesItsOwnRequestsNamespaceInOrder() {
        request("/v2/library/alpine/manifests/latest?ns=docker.io");
        request("/v2/library/alpine/manifests/latest");
        request("/ghcr.io/v2/org/tool/blobs/sha256:ab?ns=ghcr.io");
        request("/v2/lan/app/tags/list?n=10&ns=local");

        assertEquals("docker.io", answer(HttpResponseStatus.OK));
        assertNull(answer(HttpResponseStatus.NOT_FOUND));
        assertEquals("ghcr.io", answer(HttpResponseStatus.OK));
        assertEquals("local", answer(HttpResponseStatus.OK));
    }

    @Test
    void aContinueIsNotTheAnswer() {
        request("/v2/lan/app/blobs/uploads/?ns=local");

        assertNull(answer(HttpResponseStatus.CONTINUE));
        assertEquals("local", answer(HttpResponseStatus.ACCEPTED));
    }

    @Test
    void namespacesNotServedOrUnfitForAHeaderAndPathsOutsideTheApiAreNotEchoed() {
        request("/v2/?ns=quay.io");
        request("/v2/?ns=docker.io%0D%0AX-Injected:%201");
        request("/token?ns=docker.io");
        request("/v2/?ns=%");

        assertNull(answer(HttpResponseStatus.OK));
        assertNull(answer(HttpResponseStatus.OK));
        assertNull(answer(HttpResponseStatus.OK));
        assertNull(answer(HttpResponseStatus.BAD_REQUEST));
    }
}
