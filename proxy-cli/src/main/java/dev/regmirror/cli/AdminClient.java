package dev.regmirror.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.net.ConnectException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpConnectTimeoutException;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.HttpTimeoutException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Optional;

/**
 * Talks to regmirror's admin API (JDK {@code HttpClient}): sends a request (a GET, a DELETE, a POST
 * of JSON or of nothing) with the bearer token and returns the JSON, or fails with a {@link Failure}
 * whose message is one line saying what went
 * wrong (the server is down, the token was refused, the answer was not JSON).
 */
final class AdminClient {

    /** A failed admin request; the message is what the user sees after {@code regmirror: }. */
    static final class Failure extends Exception {
        Failure(String message) {
            super(message);
        }
    }

    /** A JSON answer and the next page's path, if the answer had a {@code Link}. */
    record Answer(JsonNode body, Optional<String> next) {
    }

    private static final ObjectMapper JSON = new ObjectMapper();
    /** How long an ordinary admin request may take; an import's upload has no limit. */
    private static final Duration REQUEST_TIMEOUT = Duration.ofMinutes(2);

    private final URI server;
    private final String token;
    private final HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
            .connectTimeout(Duration.ofSeconds(5)).build();

    /** @param token null for none */
    AdminClient(URI server, String token) {
        this.server = server;
        this.token = token;
    }

    Answer get(String pathAndQuery) throws Failure, InterruptedException {
        return exchange("GET", pathAndQuery, HttpRequest.BodyPublishers.noBody(), null, REQUEST_TIMEOUT, pathAndQuery);
    }

    /** POSTs a JSON body; any 2xx answer with a JSON object is a success. */
    Answer post(String path, JsonNode body) throws Failure, InterruptedException {
        return exchange("POST", path, HttpRequest.BodyPublishers.ofString(body.toString()), "application/json",
                REQUEST_TIMEOUT, path);
    }

    /** Sends a request with no body ({@code DELETE}, {@code POST}) and returns its JSON answer. */
    Answer send(String method, String pathAndQuery) throws Failure, InterruptedException {
        return exchange(method, pathAndQuery, HttpRequest.BodyPublishers.noBody(), null, REQUEST_TIMEOUT, pathAndQuery);
    }

    /**
     * POSTs a file as the body, streamed from disk ({@code regmirror import}); no timeout on the
     * answer, which comes once the server has read and imported the whole file.
     */
    Answer postFile(String pathAndQuery, Path file, String contentType) throws Failure, InterruptedException {
        HttpRequest.BodyPublisher content;
        try {
            content = HttpRequest.BodyPublishers.ofFile(file);
        } catch (java.io.FileNotFoundException e) {
            throw new Failure("cannot read " + file + ": no such file");
        }
        return exchange("POST", pathAndQuery, content, contentType, null, "POST " + pathAndQuery);
    }

    /**
     * Sends one request and returns its JSON object, or fails with one line naming the server and
     * {@code what} was asked.
     *
     * @param contentType null for none
     * @param timeout     null for none
     */
    private Answer exchange(String method, String pathAndQuery, HttpRequest.BodyPublisher content, String contentType,
                            Duration timeout, String what) throws Failure, InterruptedException {
        String base = server.toString().replaceAll("/+$", "");
        HttpRequest.Builder request;
        try {
            request = HttpRequest.newBuilder(URI.create(base + pathAndQuery)).method(method, content);
        } catch (IllegalArgumentException e) {
            throw new Failure("not a usable admin API URL: " + server);
        }
        if (timeout != null) {
            request.timeout(timeout);
        }
        if (contentType != null) {
            request.header("Content-Type", contentType);
        }
        if (token != null) {
            request.header("Authorization", "Bearer " + token);
        }
        HttpResponse<byte[]> response;
        try {
            response = http.send(request.build(), HttpResponse.BodyHandlers.ofByteArray());
        } catch (ConnectException e) {
            throw new Failure("cannot reach the admin API at " + server + ": connection refused");
        } catch (HttpConnectTimeoutException e) {
            throw new Failure("cannot reach the admin API at " + server + ": timed out connecting");
        } catch (HttpTimeoutException e) {
            throw new Failure("the admin API at " + server + " did not answer " + what + " in time");
        } catch (IOException e) {
            throw new Failure("cannot reach the admin API at " + server + ": "
                    + (e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage()));
        }
        JsonNode body;
        try {
            body = JSON.readTree(response.body());
        } catch (IOException e) {
            body = null;
        }
        if (response.statusCode() / 100 != 2) {
            String why = errorMessage(body).orElse("");
            if (response.statusCode() == 401) {
                throw new Failure("the admin API at " + server + " refused the request (401): "
                        + (why.isEmpty() ? "unauthorized" : why)
                        + (token == null ? "; pass --token or set REGMIRROR_ADMIN_TOKEN" : ""));
            }
            throw new Failure("the admin API at " + server + " answered " + response.statusCode() + " to " + what
                    + (why.isEmpty() ? "" : ": " + why));
        }
        if (body == null || !body.isObject()) {
            throw new Failure("the admin API at " + server + " answered " + what + " with something that is not"
                    + " a JSON object");
        }
        return new Answer(body, response.headers().firstValue("Link").flatMap(AdminClient::nextPath));
    }

    private static Optional<String> errorMessage(JsonNode body) {
        if (body == null || !body.path("errors").isArray() || body.path("errors").isEmpty()) {
            return Optional.empty();
        }
        JsonNode error = body.path("errors").get(0);
        return Optional.of(error.path("code").asText() + " " + error.path("message").asText()).map(String::trim);
    }

    /** {@code </admin/images?n=100&last=x>; rel="next"} to its path. */
    private static Optional<String> nextPath(String link) {
        int start = link.indexOf('<');
        int end = link.indexOf('>');
        return start == 0 && end > start && link.contains("rel=\"next\"")
                ? Optional.of(link.substring(start + 1, end)) : Optional.empty();
    }
}
