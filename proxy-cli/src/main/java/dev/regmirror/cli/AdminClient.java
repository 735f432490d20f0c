package dev.regmirror.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.InputStream;
import java.net.ConnectException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpConnectTimeoutException;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.HttpTimeoutException;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Flow;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

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

    private final URI server;
    private final String token;
    private final StallLimit stall;
    private final HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
            .connectTimeout(Duration.ofSeconds(5)).build();

    /**
     * @param token null for none
     * @param stall how long the admin API may stay quiet: before an answer (for an import, from
     *              the end of its upload) and within a body
     */
    AdminClient(URI server, String token, StallLimit stall) {
        this.server = server;
        this.token = token;
        this.stall = stall;
    }

    Answer get(String pathAndQuery) throws Failure, InterruptedException {
        return exchange("GET", pathAndQuery, null, null, pathAndQuery);
    }

    /** POSTs a JSON body; any 2xx answer with a JSON object is a success. */
    Answer post(String path, JsonNode body) throws Failure, InterruptedException {
        return exchange("POST", path, HttpRequest.BodyPublishers.ofString(body.toString()), "application/json", path);
    }

    /** Sends a request with no body ({@code DELETE}, {@code POST}) and returns its JSON answer. */
    Answer send(String method, String pathAndQuery) throws Failure, InterruptedException {
        return exchange(method, pathAndQuery, null, null, pathAndQuery);
    }

    /**
     * POSTs a file as the body, streamed from disk ({@code regmirror import}). The upload may take
     * as long as it needs while the server keeps reading it; the answer, which comes once the
     * server has read and imported the whole file, may take the stall limit from the upload's end.
     */
    Answer postFile(String pathAndQuery, Path file, String contentType) throws Failure, InterruptedException {
        Upload upload;
        try {
            upload = new Upload(HttpRequest.BodyPublishers.ofFile(file));
        } catch (java.io.FileNotFoundException e) {
            throw new Failure("cannot read " + file + ": no such file");
        }
        return exchange("POST", pathAndQuery, upload, contentType, "POST " + pathAndQuery);
    }

    /**
     * Sends one request and returns its JSON object, or fails with one line naming the server and
     * {@code what} was asked.
     *
     * @param content     null for none
     * @param contentType null for none
     */
    private Answer exchange(String method, String pathAndQuery, HttpRequest.BodyPublisher content, String contentType,
                            String what) throws Failure, InterruptedException {
        String base = server.toString().replaceAll("/+$", "");
        HttpRequest.Builder request;
        try {
            request = HttpRequest.newBuilder(URI.create(base + pathAndQuery))
                    .method(method, content == null ? HttpRequest.BodyPublishers.noBody() : content);
        } catch (IllegalArgumentException e) {
            throw new Failure("not a usable admin API URL: " + server);
        }
        if (!(content instanceof Upload)) {
            request.timeout(stall.limit());
        }
        if (contentType != null) {
            request.header("Content-Type", contentType);
        }
        if (token != null) {
            request.header("Authorization", "Bearer " + token);
        }
        HttpResponse<InputStream> response;
        try {
            response = content instanceof Upload upload ? await(http.sendAsync(request.build(),
                    HttpResponse.BodyHandlers.ofInputStream()), upload, what)
                    : http.send(request.build(), HttpResponse.BodyHandlers.ofInputStream());
        } catch (ConnectException e) {
            throw new Failure("cannot reach the admin API at " + server + ": connection refused");
        } catch (HttpConnectTimeoutException e) {
            throw new Failure("cannot reach the admin API at " + server + ": timed out connecting");
        } catch (HttpTimeoutException e) {
            throw new Failure("the admin API at " + server + " did not answer " + what + " within " + stall.text());
        } catch (IOException e) {
            throw new Failure("cannot reach the admin API at " + server + ": "
                    + (e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage()));
        }
        byte[] bytes;
        try (InputStream in = stall.guard(response.body(), "the admin API at " + server, "its answer to " + what)) {
            bytes = in.readAllBytes();
        } catch (IOException e) {
            throw new Failure(e instanceof StallLimit.StalledException ? e.getMessage()
                    : "reading the answer to " + what + " from the admin API at " + server + ": " + e.getMessage());
        }
        JsonNode body;
        try {
            body = JSON.readTree(bytes);
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

    /**
     * Waits for the answer to an upload: without limit while the server takes the body, failing
     * when it takes nothing for the stall limit, and for the stall limit once the body is sent.
     */
    private HttpResponse<InputStream> await(CompletableFuture<HttpResponse<InputStream>> pending, Upload upload,
                                            String what) throws Failure, IOException, InterruptedException {
        while (true) {
            try {
                return pending.get(Math.min(1000, stall.limit().toMillis()), TimeUnit.MILLISECONDS);
            } catch (TimeoutException notYet) {
                long quiet = System.nanoTime() - upload.lastProgressNanos();
                if (quiet >= stall.limit().toNanos()) {
                    pending.cancel(true);
                    throw new Failure(upload.sent()
                            ? "the admin API at " + server + " did not answer " + what + " within " + stall.text()
                                    + " of the end of the upload"
                            : "the admin API at " + server + " took nothing more of the upload for " + what
                                    + " for " + stall.text());
                }
            } catch (ExecutionException e) {
                if (e.getCause() instanceof IOException io) {
                    throw io;
                }
                throw new IOException(e.getCause());
            } catch (InterruptedException e) {
                pending.cancel(true);
                throw e;
            }
        }
    }

    /** A request body that notes when it last handed bytes to the connection, and when it ended. */
    private static final class Upload implements HttpRequest.BodyPublisher {
        private final HttpRequest.BodyPublisher body;
        private volatile long lastProgressNanos = System.nanoTime();
        private volatile boolean sent;

        Upload(HttpRequest.BodyPublisher body) {
            this.body = body;
        }

        long lastProgressNanos() {
            return lastProgressNanos;
        }

        boolean sent() {
            return sent;
        }

        @Override
        public long contentLength() {
            return body.contentLength();
        }

        @Override
        public void subscribe(Flow.Subscriber<? super ByteBuffer> subscriber) {
            body.subscribe(new Flow.Subscriber<ByteBuffer>() {
                @Override
                public void onSubscribe(Flow.Subscription subscription) {
                    subscriber.onSubscribe(subscription);
                }

                @Override
                public void onNext(ByteBuffer item) {
                    lastProgressNanos = System.nanoTime();
                    subscriber.onNext(item);
                }

                @Override
                public void onError(Throwable throwable) {
                    subscriber.onError(throwable);
                }

                @Override
                public void onComplete() {
                    lastProgressNanos = System.nanoTime();
                    sent = true;
                    subscriber.onComplete();
                }
            });
        }
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
