package dev.regmirror.core.client;

import static com.github.tomakehurst.wiremock.client.WireMock.aResponse;
import static com.github.tomakehurst.wiremock.client.WireMock.get;
import static com.github.tomakehurst.wiremock.client.WireMock.getRequestedFor;
import static com.github.tomakehurst.wiremock.client.WireMock.urlEqualTo;
import static com.github.tomakehurst.wiremock.core.WireMockConfiguration.options;
import static dev.regmirror.core.client.Payloads.ALPINE;
import static dev.regmirror.core.client.Payloads.LATEST;
import static dev.regmirror.core.client.Payloads.MANIFEST;
import static dev.regmirror.core.client.Payloads.MANIFEST_DIGEST;
import static dev.regmirror.core.client.Payloads.MANIFEST_PATH;
import static dev.regmirror.core.client.UpstreamFixture.await;
import static dev.regmirror.core.client.UpstreamFixture.failure;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.github.tomakehurst.wiremock.WireMockServer;
import com.github.tomakehurst.wiremock.stubbing.ServeEvent;
import dev.regmirror.core.error.UpstreamUnavailableException;
import dev.regmirror.core.reference.Digest;
import dev.regmirror.core.testing.TcpForwarder;
import dev.regmirror.core.upstream.EndpointSettings;
import java.net.URI;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** An endpoint reached through the HTTP proxy configured for it. */
class HttpRegistryClientProxyTest {

    private final UpstreamFixture fixture = new UpstreamFixture();
    private final WireMockServer proxy = new WireMockServer(options().dynamicPort().enableBrowserProxying(true));

    @AfterEach
    void close() {
        proxy.stop();
        fixture.close();
    }

    private EndpointSettings throughProxy(URI proxyUrl) {
        EndpointSettings plain = fixture.anonymous();
        return new EndpointSettings(plain.registry(), plain.url(), plain.credentials(), plain.tokenRealm(),
                plain.connectTimeout(), plain.readTimeout(), plain.caFile(), Optional.of(proxyUrl));
    }

    /** 100,000 random bytes that the upstream serves as a blob of library/alpine. */
    private byte[] stubbedLayer(long seed) {
        byte[] layer = new byte[100_000];
        new java.util.Random(seed).nextBytes(layer);
        fixture.upstream.stubFor(get("/v2/library/alpine/blobs/" + Digest.sha256Of(layer))
                .willReturn(aResponse().withBody(layer)));
        return layer;
    }

    @Test
    void requestsGoThroughTheProxy() throws Exception {
        proxy.start();
        fixture.upstream.stubFor(get(MANIFEST_PATH).willReturn(aResponse().withBody(MANIFEST)));

        assertEquals(MANIFEST_DIGEST, await(fixture.client(throughProxy(URI.create("http://127.0.0.1:" + proxy.port())))
                .getManifest(ALPINE, LATEST)).digest());

        List<ServeEvent> proxied = proxy.getAllServeEvents();
        assertEquals(1, proxied.size());
        assertEquals(fixture.url() + MANIFEST_PATH, proxied.get(0).getRequest().getAbsoluteUrl());
        fixture.upstream.verify(1, getRequestedFor(urlEqualTo(MANIFEST_PATH)));
    }

    @Test
    void blobBodiesGoThroughTheProxyToo() throws Exception {
        proxy.start();
        byte[] layer = stubbedLayer(5);
        Digest digest = Digest.sha256Of(layer);
        String path = "/v2/library/alpine/blobs/" + digest;

        BlobBody body = await(fixture.client(throughProxy(URI.create("http://127.0.0.1:" + proxy.port())))
                .getBlob(ALPINE, digest));

        assertArrayEquals(layer, await(BodySubscriber.readAll(body).result));
        List<ServeEvent> proxied = proxy.getAllServeEvents();
        assertEquals(1, proxied.size());
        assertEquals(fixture.url() + path, proxied.get(0).getRequest().getAbsoluteUrl());
        fixture.upstream.verify(1, getRequestedFor(urlEqualTo(path)));
    }

    @Test
    void blobsThroughTheProxyShareOneConnectionToIt() throws Exception {
        proxy.start();
        byte[] layer = stubbedLayer(6);
        Digest digest = Digest.sha256Of(layer);
        try (TcpForwarder toProxy = new TcpForwarder(proxy.port())) {
            HttpRegistryClient client = fixture.client(throughProxy(URI.create("http://127.0.0.1:" + toProxy.port())));

            for (int i = 0; i < 3; i++) {
                assertArrayEquals(layer, await(BodySubscriber.readAll(await(client.getBlob(ALPINE, digest))).result));
            }

            assertEquals(1, toProxy.connections());
        }
        fixture.upstream.verify(3, getRequestedFor(urlEqualTo("/v2/library/alpine/blobs/" + digest)));
    }

    @Test
    void proxyThatIsDownMakesTheUpstreamUnavailable() throws Exception {
        URI closed = URI.create("http://127.0.0.1:" + UpstreamFixture.closedPort());

        UpstreamUnavailableException e = failure(fixture.client(throughProxy(closed)).getManifest(ALPINE, LATEST),
                UpstreamUnavailableException.class);

        assertTrue(e.getMessage().endsWith("connection refused"), e.getMessage());
        fixture.upstream.verify(0, getRequestedFor(urlEqualTo(MANIFEST_PATH)));
    }

    @Test
    void onlyPlainHttpProxiesAreAccepted() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> fixture.client(throughProxy(URI.create("https://proxy.example:3128"))));

        assertTrue(e.getMessage().startsWith("proxy https://proxy.example:3128: only http://"), e.getMessage());
    }
}
