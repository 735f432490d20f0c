package dev.regmirror.cli;

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
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A registry that serves any repository's tag {@code 1.0} as an OCI image of a small config and
 * layers of the given sizes (random bytes seeded by the repository's name), and sends every blob at
 * a fixed rate per connection, so a prefetch through regmirror takes seconds on loopback. A real
 * registry cannot be slowed down.
 */
final class TricklingRegistry implements AutoCloseable {

    private static final int CHUNK = 16 * 1024;

    private final HttpServer server;
    private final ExecutorService threads = Executors.newCachedThreadPool();
    private final long[] layerSizes;
    private final long bytesPerSecond;
    private final Map<String, Image> images = new HashMap<>();
    private final Map<String, AtomicLong> gets = new ConcurrentHashMap<>();

    /** One repository's image: the manifest, and each blob by its digest. */
    record Image(byte[] manifest, Map<String, byte[]> blobs) {

        Digest digest() {
            return Digest.sha256Of(manifest);
        }

        long blobBytes() {
            return blobs.values().stream().mapToLong(blob -> blob.length).sum();
        }
    }

    TricklingRegistry(long bytesPerSecond, long... layerSizes) throws IOException {
        this.bytesPerSecond = bytesPerSecond;
        this.layerSizes = layerSizes.clone();
        server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 50);
        server.setExecutor(threads);
        server.createContext("/", this::handle);
        server.start();
    }

    URI uri() {
        return URI.create("http://127.0.0.1:" + server.getAddress().getPort());
    }

    /** How many GET requests the path was sent, such as {@code /v2/library/app/blobs/sha256:…}. */
    long gets(String path) {
        AtomicLong count = gets.get(path);
        return count == null ? 0 : count.get();
    }

    /** The image the registry serves as {@code <repository>:1.0}, such as {@code library/app}. */
    synchronized Image image(String repository) {
        return images.computeIfAbsent(repository, this::build);
    }

    private Image build(String repository) {
        Random random = new Random(repository.hashCode());
        byte[] config = ("{\"architecture\":\"amd64\",\"os\":\"linux\",\"author\":\"" + repository
                + "\",\"rootfs\":{\"type\":\"layers\",\"diff_ids\":[]}}").getBytes(StandardCharsets.UTF_8);
        Map<String, byte[]> blobs = new HashMap<>();
        blobs.put(Digest.sha256Of(config).toString(), config);
        List<String> layers = new ArrayList<>();
        for (long size : layerSizes) {
            byte[] layer = new byte[Math.toIntExact(size)];
            random.nextBytes(layer);
            String digest = Digest.sha256Of(layer).toString();
            blobs.put(digest, layer);
            layers.add("{\"mediaType\":\"application/vnd.oci.image.layer.v1.tar\",\"digest\":\"" + digest
                    + "\",\"size\":" + size + "}");
        }
        byte[] manifest = ("{\"schemaVersion\":2,\"mediaType\":\"" + MediaTypes.OCI_MANIFEST + "\",\"config\":{\"mediaType\":"
                + "\"application/vnd.oci.image.config.v1+json\",\"digest\":\"" + Digest.sha256Of(config) + "\",\"size\":"
                + config.length + "},\"layers\":[" + String.join(",", layers) + "]}").getBytes(StandardCharsets.UTF_8);
        return new Image(manifest, blobs);
    }

    private void handle(HttpExchange exchange) throws IOException {
        String path = exchange.getRequestURI().getPath();
        boolean head = exchange.getRequestMethod().equals("HEAD");
        if (exchange.getRequestMethod().equals("GET")) {
            gets.computeIfAbsent(path, any -> new AtomicLong()).incrementAndGet();
        }
        try (exchange) {
            int manifests = path.indexOf("/manifests/");
            int blobs = path.indexOf("/blobs/");
            if (path.equals("/v2/")) {
                send(exchange, head, "{}".getBytes(StandardCharsets.UTF_8));
            } else if (manifests > 4) {
                Image image = image(path.substring(4, manifests));
                String reference = path.substring(manifests + "/manifests/".length());
                if (reference.equals("1.0") || reference.equals(image.digest().toString())) {
                    exchange.getResponseHeaders().set("Content-Type", MediaTypes.OCI_MANIFEST);
                    exchange.getResponseHeaders().set("Docker-Content-Digest", image.digest().toString());
                    send(exchange, head, image.manifest());
                    return;
                }
                notFound(exchange, head, "MANIFEST_UNKNOWN");
            } else if (blobs > 4) {
                byte[] blob = image(path.substring(4, blobs)).blobs().get(path.substring(blobs + "/blobs/".length()));
                if (blob == null) {
                    notFound(exchange, head, "BLOB_UNKNOWN");
                    return;
                }
                exchange.getResponseHeaders().set("Content-Type", "application/octet-stream");
                send(exchange, head, blob);
            } else {
                notFound(exchange, head, "NAME_UNKNOWN");
            }
        }
    }

    /** Sends the body {@link #CHUNK} bytes at a time, pausing between chunks to keep to the rate. */
    private void send(HttpExchange exchange, boolean head, byte[] body) throws IOException {
        exchange.getResponseHeaders().set("Content-Length", String.valueOf(body.length));
        if (head) {
            exchange.sendResponseHeaders(200, -1);
            return;
        }
        exchange.sendResponseHeaders(200, body.length);
        OutputStream out = exchange.getResponseBody();
        long start = System.nanoTime();
        for (int sent = 0; sent < body.length; ) {
            int length = Math.min(CHUNK, body.length - sent);
            out.write(body, sent, length);
            out.flush();
            sent += length;
            long dueNanos = sent * 1_000_000_000L / bytesPerSecond - (System.nanoTime() - start);
            if (dueNanos > 0 && sent < body.length) {
                try {
                    Thread.sleep(dueNanos / 1_000_000, (int) (dueNanos % 1_000_000));
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    return;
                }
            }
        }
    }

    private static void notFound(HttpExchange exchange, boolean head, String code) throws IOException {
        byte[] error = ("{\"errors\":[{\"code\":\"" + code + "\",\"message\":\"no such thing\"}]}")
                .getBytes(StandardCharsets.UTF_8);
        exchange.getResponseHeaders().set("Content-Type", "application/json");
        exchange.sendResponseHeaders(404, head ? -1 : error.length);
        if (!head) {
            exchange.getResponseBody().write(error);
        }
    }

    @Override
    public void close() {
        server.stop(0);
        threads.shutdownNow();
    }
}
