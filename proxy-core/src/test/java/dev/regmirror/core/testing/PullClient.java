package dev.regmirror.core.testing;

import dev.regmirror.core.manifest.MediaTypes;
import dev.regmirror.core.reference.Digest;
import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.HttpTimeoutException;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.LongAdder;

/**
 * Pulls images through a registry the way a client does (the manifest by tag, a platform's manifest
 * by digest for an index, then every config and layer blob) and hashes every {@code 200} body it
 * receives to the end, tallying each outcome: a complete body whose digest is not the one asked for
 * is a {@link #wrongBodies() wrong body}, the one outcome no fault may ever cause; a body cut off or
 * reset is only {@link #brokenBodies() broken}.
 */
public final class PullClient {

    private final HttpClient http;
    private final Duration timeout;
    private final LongAdder pulls = new LongAdder();
    private final LongAdder completePulls = new LongAdder();
    private final LongAdder goodBodies = new LongAdder();
    private final LongAdder goodBytes = new LongAdder();
    private final LongAdder brokenBodies = new LongAdder();
    private final LongAdder timeouts = new LongAdder();
    private final LongAdder refused = new LongAdder();
    private final Map<Integer, LongAdder> statuses = new ConcurrentHashMap<>();
    private final List<String> wrong = new CopyOnWriteArrayList<>();

    public PullClient(HttpClient http, Duration timeout) {
        this.http = http;
        this.timeout = timeout;
    }

    /**
     * Pulls {@code image} as {@code <registry>/v2/<name>/...}; for an index, the platform manifest
     * {@code random} picks. Returns whether every request answered 200 with the right bytes.
     */
    public boolean pull(URI registry, String name, BuiltImage image, Random random) {
        pulls.increment();
        boolean complete = fetch(registry.resolve("/v2/" + name + "/manifests/" + image.tag()), image.digest());
        BuiltManifest manifest = image.manifests().get(random.nextInt(image.manifests().size()));
        if (image.isIndex()) {
            complete &= fetch(registry.resolve("/v2/" + name + "/manifests/" + manifest.digest()), manifest.digest());
        }
        complete &= fetch(registry.resolve("/v2/" + name + "/blobs/" + manifest.config().digest()),
                manifest.config().digest());
        for (Digest layer : manifest.layerDigests()) {
            complete &= fetch(registry.resolve("/v2/" + name + "/blobs/" + layer), layer);
        }
        if (complete) {
            completePulls.increment();
        }
        return complete;
    }

    /** GETs {@code uri}; true if it answered 200 and its whole body hashes to {@code expected}. */
    public boolean fetch(URI uri, Digest expected) {
        HttpRequest request = HttpRequest.newBuilder(uri).timeout(timeout)
                .header("Accept", MediaTypes.ACCEPT_ALL_HEADER).GET().build();
        HttpResponse<InputStream> response;
        try {
            response = http.send(request, HttpResponse.BodyHandlers.ofInputStream());
        } catch (HttpTimeoutException e) {
            timeouts.increment();
            return false;
        } catch (IOException e) {
            refused.increment();
            return false;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
        statuses.computeIfAbsent(response.statusCode(), s -> new LongAdder()).increment();
        MessageDigest sha256 = sha256();
        long bytes = 0;
        try (InputStream body = response.body()) {
            byte[] buffer = new byte[64 * 1024];
            int n;
            while ((n = body.read(buffer)) >= 0) {
                sha256.update(buffer, 0, n);
                bytes += n;
            }
        } catch (HttpTimeoutException e) {
            timeouts.increment();
            return false;
        } catch (IOException e) {
            brokenBodies.increment();
            return false;
        }
        if (response.statusCode() != 200) {
            return false;
        }
        String got = "sha256:" + HexFormat.of().formatHex(sha256.digest());
        if (!got.equals(expected.toString())) {
            wrong.add("GET " + uri + " answered 200 with " + bytes + " bytes hashing to " + got);
            return false;
        }
        goodBodies.increment();
        goodBytes.add(bytes);
        return true;
    }

    /** Every complete 200 body whose digest was wrong: must stay empty. */
    public List<String> wrongBodies() {
        return List.copyOf(wrong);
    }

    public long pulls() {
        return pulls.sum();
    }

    public long completePulls() {
        return completePulls.sum();
    }

    public long goodBodies() {
        return goodBodies.sum();
    }

    /** Bodies that ended in an I/O error before their end (cut off, reset). */
    public long brokenBodies() {
        return brokenBodies.sum();
    }

    /** Requests or bodies that did not finish within the timeout. */
    public long timeouts() {
        return timeouts.sum();
    }

    /** Requests that failed before any response (connection refused or reset). */
    public long refused() {
        return refused.sum();
    }

    /** How many responses had each status. */
    public Map<Integer, Long> statuses() {
        Map<Integer, Long> copy = new TreeMap<>();
        statuses.forEach((status, count) -> copy.put(status, count.sum()));
        return copy;
    }

    public String summary() {
        return "pulls=" + pulls() + " (complete " + completePulls() + "), bodies: good=" + goodBodies()
                + " (" + goodBytes.sum() / (1024 * 1024) + " MiB), broken=" + brokenBodies() + ", wrong=" + wrong.size()
                + ", timeouts=" + timeouts() + ", no response=" + refused() + ", statuses " + statuses();
    }

    private static MessageDigest sha256() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
