package dev.regmirror.server;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import dev.regmirror.core.manifest.MediaTypes;
import dev.regmirror.core.reference.Digest;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A registry of one image, {@code library/big:1.0} (an OCI manifest, a small config, one big layer),
 * that sends the first part of the layer and holds the rest until the test releases it, and counts
 * the GETs of each path. A real registry cannot pause in the middle of a body.
 */
final class PausingRegistry implements AutoCloseable {

    private final HttpServer server;
    private final byte[] config;
    private final byte[] layer;
    private final byte[] manifest;
    private final int firstPart;
    private final CountDownLatch release = new CountDownLatch(1);
    private final Map<String, AtomicInteger> gets = new ConcurrentHashMap<>();

    PausingRegistry(byte[] layer, int firstPart) throws IOException {
        this.layer = layer;
        this.firstPart = firstPart;
        this.config = "{\"architecture\":\"amd64\",\"os\":\"linux\",\"rootfs\":{\"type\":\"layers\",\"diff_ids\":[]}}"
                .getBytes(StandardCharsets.UTF_8);
        this.manifest = ("{\"schemaVersion\":2,\"mediaType\":\"" + MediaTypes.OCI_MANIFEST + "\",\"config\":{\"mediaType\":"
                + "\"application/vnd.oci.image.config.v1+json\",\"digest\":\"" + Digest.sha256Of(config) + "\",\"size\":"
                + config.length + "},\"layers\":[{\"mediaType\":\"application/vnd.oci.image.layer.v1.tar\",\"digest\":\""
                + layerDigest() + "\",\"size\":" + layer.length + "}]}").getBytes(StandardCharsets.UTF_8);
        server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 50);
        server.setExecutor(Executors.newCachedThreadPool());
        server.createContext("/", this::handle);
        server.start();
    }

    Digest layerDigest() {
        return Digest.sha256Of(layer);
    }

    long blobBytes() {
        return config.length + layer.length;
    }

    URI uri() {
        return URI.create("http://127.0.0.1:" + server.getAddress().getPort());
    }

    /** GETs of a path so far. */
    int gets(String path) {
        AtomicInteger count = gets.get(path);
        return count == null ? 0 : count.get();
    }

    void release() {
        release.countDown();
    }

    private void handle(HttpExchange exchange) throws IOException {
        String path = exchange.getRequestURI().getPath();
        boolean head = exchange.getRequestMethod().equals("HEAD");
        if (!head) {
            gets.computeIfAbsent(path, p -> new AtomicInteger()).incrementAndGet();
        }
        try (exchange) {
            if (path.equals("/v2/library/big/manifests/1.0")
                    || path.equals("/v2/library/big/manifests/" + Digest.sha256Of(manifest))) {
                exchange.getResponseHeaders().set("Content-Type", MediaTypes.OCI_MANIFEST);
                exchange.getResponseHeaders().set("Docker-Content-Digest", Digest.sha256Of(manifest).toString());
                send(exchange, head, manifest, manifest.length);
            } else if (path.equals("/v2/library/big/blobs/" + Digest.sha256Of(config))) {
                send(exchange, head, config, config.length);
            } else if (path.equals("/v2/library/big/blobs/" + layerDigest())) {
                send(exchange, head, layer, firstPart);
            } else if (path.equals("/v2/")) {
                send(exchange, head, "{}".getBytes(StandardCharsets.UTF_8), 2);
            } else {
                byte[] error = "{\"errors\":[{\"code\":\"NAME_UNKNOWN\",\"message\":\"no such thing\"}]}"
                        .getBytes(StandardCharsets.UTF_8);
                exchange.getResponseHeaders().set("Content-Type", "application/json");
                exchange.sendResponseHeaders(404, head ? -1 : error.length);
                if (!head) {
                    exchange.getResponseBody().write(error);
                }
            }
        }
    }

    /** Sends {@code first} bytes at once and, if that is not all, the rest once released. */
    private void send(HttpExchange exchange, boolean head, byte[] body, int first) throws IOException {
        exchange.getResponseHeaders().set("Content-Length", String.valueOf(body.length));
        if (head) {
            exchange.sendResponseHeaders(200, -1);
            return;
        }
        exchange.sendResponseHeaders(200, body.length);
        OutputStream out = exchange.getResponseBody();
        out.write(body, 0, first);
        out.flush();
        if (first < body.length) {
            try {
                if (!release.await(30, TimeUnit.SECONDS)) {
                    return;
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            }
            out.write(body, first, body.length - first);
        }
    }

    @Override
    public void close() {
        release.countDown();
        server.stop(0);
    }
}
