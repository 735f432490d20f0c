package dev.regmirror.server.v2;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.regmirror.core.blob.FileBlobStore;
import dev.regmirror.core.blob.ManifestStore;
import dev.regmirror.core.config.HostedSettings;
import dev.regmirror.core.hosted.HostedManifests;
import dev.regmirror.core.hosted.HostedStore;
import dev.regmirror.core.manifest.MediaTypes;
import dev.regmirror.core.reference.Digest;
import dev.regmirror.core.reference.Reference;
import dev.regmirror.core.reference.RepositoryName;
import dev.regmirror.core.reference.Tag;
import dev.regmirror.core.upstream.Route;
import dev.regmirror.server.http.ErrorResponder;
import dev.regmirror.server.pipeline.UnhandledErrorHandler;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.http.DefaultHttpContent;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.handler.codec.http.DefaultLastHttpContent;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpMethod;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.OptionalLong;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The hosted manifest handlers on a channel: a push's streamed body collected and stored, refused
 * past the limit with every buffer released, read back, listed, referred to and deleted.
 */
class HostedManifestHandlersTest {

    private static final Route APP = Route.hosted("local", new RepositoryName("lan/app"));
    private static final V2Request.Written WRITTEN = new V2Request.Written("/v2/", "lan/app", Optional.empty());
    private static final ObjectMapper MAPPER = new ObjectMapper();

    @TempDir
    Path dir;

    private FileBlobStore blobs;
    private HostedStore store;
    private HostedManifests manifests;
    private Digest config;
    private Digest layer;

    @BeforeEach
    void open() throws Exception {
        blobs = FileBlobStore.open(dir);
        store = HostedStore.open(blobs.layout(), blobs.index());
        manifests = new HostedManifests(store, new ManifestStore(blobs, blobs.layout()), 2048);
        config = seed("{}");
        layer = seed("layer");
    }

    @AfterEach
    void close() throws Exception {
        blobs.close();
    }

    private Digest seed(String content) throws Exception {
        byte[] bytes = content.getBytes(StandardCharsets.UTF_8);
        Digest digest = Digest.sha256Of(bytes);
        blobs.put(digest, bytes);
        store.linkBlob(APP, digest);
        return digest;
    }

    private EmbeddedChannel channel(boolean deletes) {
        ErrorResponder errors = new ErrorResponder(MAPPER);
        HostedSettings settings = new HostedSettings("local", List.of("lan"), List.of(), Duration.ofHours(1), deletes,
                false, 2048);
        return new EmbeddedChannel(new HostedManifestHandler(manifests, Runnable::run, errors),
                new ManifestPushHandler(manifests, Runnable::run, errors),
                new DeleteHandler(manifests, settings, Runnable::run, errors),
                new HostedTagsHandler(manifests, Runnable::run, MAPPER, errors),
                new HostedReferrersHandler(manifests, Runnable::run, MAPPER, errors), new UnhandledErrorHandler());
    }

    private String image(String extra) {
        return "{\"schemaVersion\":2,\"mediaType\":\"" + MediaTypes.OCI_MANIFEST + "\",\"artifactType\":"
                + "\"application/vnd.example.thing\",\"config\":{\"mediaType\":\"application/vnd.oci.empty.v1+json\","
                + "\"digest\":\"" + config + "\",\"size\":2},\"layers\":[{\"mediaType\":\"application/octet-stream\","
                + "\"digest\":\"" + layer + "\",\"size\":5}]" + extra + "}";
    }

    private static V2Request.ManifestPut put(Reference reference, OptionalLong length) {
        return new V2Request.ManifestPut(HttpMethod.PUT, true, APP, reference, Optional.of(MediaTypes.OCI_MANIFEST),
                length, WRITTEN, V2Request.Origin.NONE);
    }

    /** Sends a push whose body comes in chunks of at most 100 bytes, and what the channel answered. */
    private static FullHttpResponse push(EmbeddedChannel channel, Reference reference, byte[] body) {
        channel.writeInbound(put(reference, OptionalLong.of(body.length)));
        for (int at = 0; at < body.length; at += 100) {
            ByteBuf chunk = Unpooled.copiedBuffer(body, at, Math.min(100, body.length - at));
            channel.writeInbound(at + 100 >= body.length ? new DefaultLastHttpContent(chunk) : new DefaultHttpContent(chunk));
        }
        channel.runPendingTasks();
        return channel.readOutbound();
    }

    private static FullHttpResponse read(EmbeddedChannel channel, V2Request request) {
        channel.writeInbound(request);
        channel.runPendingTasks();
        return channel.readOutbound();
    }

    private static V2Request.Manifest get(HttpMethod method, Reference reference, String ifNoneMatch) {
        return new V2Request.Manifest(method, true, APP, reference, List.of(), ifNoneMatch, V2Request.Origin.NONE);
    }

    private static JsonNode json(FullHttpResponse response) throws Exception {
        return MAPPER.readTree(response.content().toString(StandardCharsets.UTF_8));
    }

    @Test
    void aStreamedPushIsStoredAndReadBackByteForByteWithItsHeaders() throws Exception {
        EmbeddedChannel channel = channel(false);
        byte[] body = image("").getBytes(StandardCharsets.UTF_8);
        Digest digest = Digest.sha256Of(body);

        FullHttpResponse created = push(channel, new Tag("1.0"), body);
        assertEquals(201, created.status().code());
        assertEquals("/v2/lan/app/manifests/" + digest, created.headers().get("Location"));
        assertEquals(digest.toString(), created.headers().get("Docker-Content-Digest"));
        assertNull(created.headers().get("OCI-Subject"));
        created.release();

        FullHttpResponse got = read(channel, get(HttpMethod.GET, new Tag("1.0"), null));
        assertEquals(200, got.status().code());
        assertEquals(MediaTypes.OCI_MANIFEST, got.headers().get("Content-Type"));
        assertEquals(digest.toString(), got.headers().get("Docker-Content-Digest"));
        assertArrayEquals(body, io.netty.buffer.ByteBufUtil.getBytes(got.content()));
        got.release();
        FullHttpResponse head = read(channel, get(HttpMethod.HEAD, digest, null));
        assertEquals(String.valueOf(body.length), head.headers().get("Content-Length"));
        assertEquals(0, head.content().readableBytes());
        head.release();
        FullHttpResponse notModified = read(channel, get(HttpMethod.GET, new Tag("1.0"), "\"" + digest + "\""));
        assertEquals(304, notModified.status().code());
        notModified.release();
        FullHttpResponse unknown = read(channel, get(HttpMethod.GET, new Tag("2.0"), null));
        assertEquals("MANIFEST_UNKNOWN", json(unknown).at("/errors/0/code").asText());
        unknown.release();
        assertFalse(channel.finishAndReleaseAll());
    }

    @Test
    void aPushDeclaredPastTheLimitIsRefusedAtOnceAndItsConnectionClosedOnceTheBodyIsRead() throws Exception {
        EmbeddedChannel channel = channel(false);
        channel.writeInbound(put(new Tag("big"), OptionalLong.of(3000)));
        FullHttpResponse refused = channel.readOutbound();
        assertEquals(413, refused.status().code());
        assertEquals("MANIFEST_TOO_LARGE", json(refused).at("/errors/0/code").asText());
        assertNotEquals("close", refused.headers().get("Connection"),
                "no Connection: close, on which the keep-alive handler would close under a client still sending");
        refused.release();
        assertTrue(channel.isOpen(), "the body is still read, so that a client still sending gets the answer");
        ByteBuf rest = Unpooled.copiedBuffer(new byte[3000]);
        channel.writeInbound(new DefaultLastHttpContent(rest));
        assertEquals(0, rest.refCnt(), "dropped as it comes");
        channel.runPendingTasks();
        assertFalse(channel.isOpen(), "then the connection closes");
        assertEquals(0, ((ByteBuf) channel.readOutbound()).readableBytes(), "after the answer, only the flush it closes on");
        assertTrue(store.tags(APP).isEmpty());
        assertFalse(channel.finishAndReleaseAll());
    }

    @Test
    void aPushDeclaredFarPastTheLimitIsRefusedAndClosedWithoutReadingIt() throws Exception {
        EmbeddedChannel channel = channel(false);
        channel.writeInbound(put(new Tag("big"), OptionalLong.of(ManifestPushHandler.LINGER_BYTES + 3000)));
        FullHttpResponse refused = channel.readOutbound();
        assertEquals(413, refused.status().code());
        refused.release();
        assertFalse(channel.isOpen(), "too much to read for the answer's sake");
        assertTrue(store.tags(APP).isEmpty());
        assertFalse(channel.finishAndReleaseAll());
    }

    @Test
    void aPushSentPastTheLimitWithoutALengthIsRefusedAndNothingIsStored() throws Exception {
        EmbeddedChannel channel = channel(false);
        channel.writeInbound(put(new Tag("big"), OptionalLong.empty()));
        ByteBuf first = Unpooled.copiedBuffer(new byte[1500]);
        ByteBuf second = Unpooled.copiedBuffer(new byte[1500]);
        channel.writeInbound(new DefaultHttpContent(first));
        assertNull(channel.readOutbound());
        channel.writeInbound(new DefaultHttpContent(second));
        FullHttpResponse refused = channel.readOutbound();
        assertEquals(413, refused.status().code());
        refused.release();
        assertEquals(0, first.refCnt(), "the body is released as it comes");
        assertEquals(0, second.refCnt());
        assertTrue(channel.isOpen());
        channel.writeInbound(LastHttpContent.EMPTY_LAST_CONTENT);
        channel.runPendingTasks();
        assertFalse(channel.isOpen());
        assertEquals(0, ((ByteBuf) channel.readOutbound()).readableBytes());
        assertTrue(store.tags(APP).isEmpty());
        assertTrue(store.manifests(APP).isEmpty());
        assertFalse(channel.finishAndReleaseAll());
    }

    @Test
    void aManifestWithASubjectIsAnsweredWithOciSubjectAndListedAsAReferrer() throws Exception {
        EmbeddedChannel channel = channel(false);
        Digest subject = Digest.sha256Of("not pushed".getBytes(StandardCharsets.UTF_8));
        byte[] body = image(",\"subject\":{\"mediaType\":\"" + MediaTypes.OCI_MANIFEST + "\",\"digest\":\"" + subject
                + "\",\"size\":10}").getBytes(StandardCharsets.UTF_8);

        FullHttpResponse created = push(channel, Digest.sha256Of(body), body);
        assertEquals(subject.toString(), created.headers().get("OCI-Subject"));
        created.release();

        FullHttpResponse all = read(channel, new V2Request.Referrers(HttpMethod.GET, true, APP, subject, Optional.empty(),
                V2Request.Origin.NONE));
        assertEquals(MediaTypes.OCI_INDEX, all.headers().get("Content-Type"));
        assertNull(all.headers().get("OCI-Filters-Applied"));
        JsonNode index = json(all);
        assertEquals(Digest.sha256Of(body).toString(), index.at("/manifests/0/digest").asText());
        assertEquals("application/vnd.example.thing", index.at("/manifests/0/artifactType").asText());
        assertEquals(body.length, index.at("/manifests/0/size").asLong());
        all.release();
        FullHttpResponse filtered = read(channel, new V2Request.Referrers(HttpMethod.GET, true, APP, subject,
                Optional.of("application/vnd.example.other"), V2Request.Origin.NONE));
        assertEquals("artifactType", filtered.headers().get("OCI-Filters-Applied"));
        assertEquals(0, json(filtered).get("manifests").size());
        filtered.release();
        assertFalse(channel.finishAndReleaseAll());
    }

    @Test
    void tagsArePagedWithALinkToTheNextPage() throws Exception {
        EmbeddedChannel channel = channel(false);
        byte[] body = image("").getBytes(StandardCharsets.UTF_8);
        for (String tag : List.of("a", "b", "c")) {
            push(channel, new Tag(tag), body).release();
        }
        FullHttpResponse first = read(channel, new V2Request.Tags(HttpMethod.GET, true, APP, "lan/app",
                "/v2/lan/app/tags/list", Optional.empty(), OptionalInt.of(2), Optional.empty(), V2Request.Origin.NONE));
        assertEquals("[\"a\",\"b\"]", json(first).get("tags").toString());
        assertEquals("</v2/lan/app/tags/list?n=2&last=b>; rel=\"next\"", first.headers().get("Link"));
        first.release();
        FullHttpResponse second = read(channel, new V2Request.Tags(HttpMethod.GET, true, APP, "lan/app",
                "/v2/lan/app/tags/list", Optional.empty(), OptionalInt.of(2), Optional.of("b"), V2Request.Origin.NONE));
        assertEquals("[\"c\"]", json(second).get("tags").toString());
        assertNull(second.headers().get("Link"));
        second.release();
        assertFalse(channel.finishAndReleaseAll());
    }

    @Test
    void deletesAreRefusedWhileDisabledAndRemoveTheManifestAndItsTagsWhenEnabled() throws Exception {
        byte[] body = image("").getBytes(StandardCharsets.UTF_8);
        Digest digest = Digest.sha256Of(body);
        EmbeddedChannel disabled = channel(false);
        push(disabled, new Tag("1.0"), body).release();
        FullHttpResponse refused = read(disabled, new V2Request.Delete(HttpMethod.DELETE, true, APP,
                Optional.of(digest), Optional.empty(), V2Request.Origin.NONE));
        assertEquals(405, refused.status().code());
        assertEquals("UNSUPPORTED", json(refused).at("/errors/0/code").asText());
        refused.release();
        assertFalse(disabled.finishAndReleaseAll());

        EmbeddedChannel enabled = channel(true);
        FullHttpResponse blob = read(enabled, new V2Request.Delete(HttpMethod.DELETE, true, APP, Optional.empty(),
                Optional.of(layer), V2Request.Origin.NONE));
        assertEquals(405, blob.status().code(), "blobs need delete.blobs too");
        blob.release();
        FullHttpResponse accepted = read(enabled, new V2Request.Delete(HttpMethod.DELETE, true, APP,
                Optional.of(digest), Optional.empty(), V2Request.Origin.NONE));
        assertEquals(202, accepted.status().code());
        accepted.release();
        assertTrue(store.tags(APP).isEmpty());
        FullHttpResponse gone = read(enabled, get(HttpMethod.GET, digest, null));
        assertEquals(404, gone.status().code());
        gone.release();
        FullHttpResponse again = read(enabled, new V2Request.Delete(HttpMethod.DELETE, true, APP,
                Optional.of(digest), Optional.empty(), V2Request.Origin.NONE));
        assertEquals("MANIFEST_UNKNOWN", json(again).at("/errors/0/code").asText());
        again.release();
        assertFalse(enabled.finishAndReleaseAll());
    }
}
