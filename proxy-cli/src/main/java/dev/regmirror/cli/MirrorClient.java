package dev.regmirror.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.regmirror.core.manifest.ManifestBytes;
import dev.regmirror.core.manifest.Manifests;
import dev.regmirror.core.manifest.MediaTypes;
import dev.regmirror.core.reference.Digest;
import java.io.IOException;
import java.io.InputStream;
import java.net.ConnectException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpConnectTimeoutException;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;

/**
 * Reads images through a regmirror's registry API (JDK {@code HttpClient}), as a client pulling
 * through it would: what the cache lacks, the mirror pulls from its upstream. Manifests are checked
 * against the digest they were asked or served by; failures are one-line {@link AdminClient.Failure}s.
 */
final class MirrorClient {

    private static final ObjectMapper JSON = new ObjectMapper();

    private final URI registry;
    private final HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
            .connectTimeout(Duration.ofSeconds(5)).followRedirects(HttpClient.Redirect.NORMAL).build();

    MirrorClient(URI registry) {
        this.registry = registry;
    }

    /** The manifest {@code name} has under {@code reference} (a tag or a digest), verified. */
    ManifestBytes manifest(String name, String reference) throws AdminClient.Failure, InterruptedException {
        String path = "/v2/" + name + "/manifests/" + reference;
        HttpResponse<byte[]> response = send(path, HttpResponse.BodyHandlers.ofByteArray(),
                "Accept", MediaTypes.ACCEPT_ALL_HEADER);
        if (response.statusCode() != 200) {
            throw failure(path, response.statusCode(), response.body());
        }
        byte[] bytes = response.body();
        Digest digest = Digest.sha256Of(bytes);
        String expected = reference.contains(":") ? reference
                : response.headers().firstValue("Docker-Content-Digest").orElse(digest.toString());
        if (!expected.equals(digest.toString())) {
            throw new AdminClient.Failure("the mirror at " + registry + " answered " + path + " with bytes of digest "
                    + digest + ", not " + expected);
        }
        String mediaType = Manifests.detectMediaType(bytes)
                .orElseGet(() -> MediaTypes.essence(response.headers().firstValue("Content-Type").orElse("")));
        if (mediaType.isEmpty()) {
            throw new AdminClient.Failure("the mirror at " + registry + " answered " + path
                    + " with something that is not a manifest");
        }
        return new ManifestBytes(mediaType, digest, bytes);
    }

    /** The blob's bytes as they arrive; the caller verifies and closes them. */
    InputStream blob(String name, Digest digest) throws AdminClient.Failure, InterruptedException {
        String path = "/v2/" + name + "/blobs/" + digest;
        HttpResponse<InputStream> response = send(path, HttpResponse.BodyHandlers.ofInputStream());
        if (response.statusCode() != 200) {
            byte[] body;
            try (InputStream in = response.body()) {
                body = in.readNBytes(64 * 1024);
            } catch (IOException e) {
                body = new byte[0];
            }
            throw failure(path, response.statusCode(), body);
        }
        return response.body();
    }

    private <T> HttpResponse<T> send(String path, HttpResponse.BodyHandler<T> handler, String... headers)
            throws AdminClient.Failure, InterruptedException {
        HttpRequest.Builder request;
        try {
            request = HttpRequest.newBuilder(URI.create(registry.toString().replaceAll("/+$", "") + path))
                    .timeout(Duration.ofMinutes(10)).GET();
        } catch (IllegalArgumentException e) {
            throw new AdminClient.Failure("not a usable registry URL: " + registry);
        }
        if (headers.length > 0) {
            request.headers(headers);
        }
        try {
            return http.send(request.build(), handler);
        } catch (ConnectException e) {
            throw new AdminClient.Failure("cannot reach the mirror at " + registry + ": connection refused");
        } catch (HttpConnectTimeoutException e) {
            throw new AdminClient.Failure("cannot reach the mirror at " + registry + ": timed out connecting");
        } catch (IOException e) {
            throw new AdminClient.Failure("GET " + path + " from the mirror at " + registry + ": "
                    + (e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage()));
        }
    }

    private AdminClient.Failure failure(String path, int status, byte[] body) {
        String why = "";
        try {
            JsonNode error = JSON.readTree(body).path("errors").path(0);
            why = (error.path("code").asText() + " " + error.path("message").asText()).trim();
        } catch (IOException | RuntimeException notJson) {
            // no registry error body: the status says it all
        }
        return new AdminClient.Failure("the mirror at " + registry + " answered " + status + " to GET " + path
                + (why.isEmpty() ? "" : ": " + why.replace('\n', ' ')));
    }
}
