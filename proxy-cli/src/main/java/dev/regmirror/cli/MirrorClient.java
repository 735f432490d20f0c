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
import java.net.http.HttpHeaders;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.HttpTimeoutException;
import java.time.Duration;

/**
 * Reads images through a regmirror's registry API (JDK {@code HttpClient}), as a client pulling
 * through it would: what the cache lacks, the mirror pulls from its upstream. Manifests are checked
 * against the digest they were asked or served by; failures are one-line {@link AdminClient.Failure}s.
 * A mirror that stays quiet past the {@link StallLimit}, before its answer or in the middle of a
 * body, fails the request instead of holding the command forever.
 */
final class MirrorClient {

    private static final ObjectMapper JSON = new ObjectMapper();

    private final URI registry;
    private final StallLimit stall;
    private final HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
            .connectTimeout(Duration.ofSeconds(5)).followRedirects(HttpClient.Redirect.NORMAL).build();

    MirrorClient(URI registry, StallLimit stall) {
        this.registry = registry;
        this.stall = stall;
    }

    /** The manifest {@code name} has under {@code reference} (a tag or a digest), verified. */
    ManifestBytes manifest(String name, String reference) throws AdminClient.Failure, InterruptedException {
        String path = "/v2/" + name + "/manifests/" + reference;
        Answer response = send(path, "Accept", MediaTypes.ACCEPT_ALL_HEADER);
        byte[] bytes;
        try (InputStream body = response.body()) {
            bytes = body.readAllBytes();
        } catch (IOException e) {
            throw new AdminClient.Failure(readFailure(path, e));
        }
        if (response.statusCode() != 200) {
            throw failure(path, response.statusCode(), bytes);
        }
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
        Answer response = send(path);
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

    /**
     * Sends a GET and returns the answer's head, with its body guarded by the stall limit.
     *
     * @throws AdminClient.Failure when the mirror cannot be reached or gives no answer within the limit
     */
    private Answer send(String path, String... headers)
            throws AdminClient.Failure, InterruptedException {
        HttpRequest.Builder request;
        try {
            request = HttpRequest.newBuilder(URI.create(registry.toString().replaceAll("/+$", "") + path))
                    .timeout(stall.limit()).GET();
        } catch (IllegalArgumentException e) {
            throw new AdminClient.Failure("not a usable registry URL: " + registry);
        }
        if (headers.length > 0) {
            request.headers(headers);
        }
        HttpResponse<InputStream> response;
        try {
            response = http.send(request.build(), HttpResponse.BodyHandlers.ofInputStream());
        } catch (ConnectException e) {
            throw new AdminClient.Failure("cannot reach the mirror at " + registry + ": connection refused");
        } catch (HttpConnectTimeoutException e) {
            throw new AdminClient.Failure("cannot reach the mirror at " + registry + ": timed out connecting");
        } catch (HttpTimeoutException e) {
            throw new AdminClient.Failure("the mirror at " + registry + " did not answer GET " + path + " within "
                    + stall.text());
        } catch (IOException e) {
            throw new AdminClient.Failure(readFailure(path, e));
        }
        return new Answer(response.statusCode(), response.headers(),
                stall.guard(response.body(), "the mirror at " + registry, "GET " + path));
    }

    /** The head of an answer, and its body guarded by the stall limit. */
    private record Answer(int statusCode, HttpHeaders headers, InputStream body) {
    }

    /** One line for an I/O failure of a GET: a stall says so itself. */
    private String readFailure(String path, IOException e) {
        return e instanceof StallLimit.StalledException ? e.getMessage()
                : "GET " + path + " from the mirror at " + registry + ": "
                        + (e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage());
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
