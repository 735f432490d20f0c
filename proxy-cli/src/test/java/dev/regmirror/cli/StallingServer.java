package dev.regmirror.cli;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;

/**
 * An HTTP server that answers some paths and goes quiet on others, in the ways a wedged server
 * does: no answer at all, an answer whose body stops halfway, or a request body it never reads.
 * A real mirror cannot be made to hang on cue; this is for the CLI's stall limits.
 */
final class StallingServer implements AutoCloseable {

    /** How a path goes quiet. */
    enum Stall {
        /** Reads the request and never answers. */
        NO_ANSWER,
        /** Sends the head and half the body, then nothing. */
        HALF_BODY,
        /** Never reads the request body (so the sender's buffers fill) and never answers. */
        BODY_UNREAD,
        /** Reads the whole request body, then never answers. */
        NO_ANSWER_AFTER_BODY
    }

    private record Reply(String contentType, byte[] body, Stall stall) {
    }

    private final HttpServer server;
    private final ExecutorService threads = Executors.newCachedThreadPool();
    private final Map<String, Reply> replies = new ConcurrentHashMap<>();
    private final CountDownLatch closed = new CountDownLatch(1);

    StallingServer() throws IOException {
        server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 50);
        server.setExecutor(threads);
        server.createContext("/", this::handle);
        server.start();
    }

    URI uri() {
        return URI.create("http://127.0.0.1:" + server.getAddress().getPort());
    }

    /** Answers GETs of {@code path} with 200 and this body. */
    StallingServer answer(String path, String contentType, byte[] body) {
        replies.put(path, new Reply(contentType, body, null));
        return this;
    }

    /** Goes quiet on {@code path}; a {@link Stall#HALF_BODY} stall sends half of {@code body} first. */
    StallingServer stall(String path, Stall stall, byte[] body) {
        replies.put(path, new Reply("application/octet-stream", body, stall));
        return this;
    }

    private void handle(HttpExchange exchange) throws IOException {
        Reply reply = replies.get(exchange.getRequestURI().getPath());
        try (exchange) {
            if (reply == null) {
                exchange.sendResponseHeaders(404, -1);
                return;
            }
            if (reply.stall() == null) {
                exchange.getResponseHeaders().set("Content-Type", reply.contentType());
                exchange.sendResponseHeaders(200, reply.body().length);
                exchange.getResponseBody().write(reply.body());
                return;
            }
            switch (reply.stall()) {
                case NO_ANSWER, BODY_UNREAD -> quiet();
                case NO_ANSWER_AFTER_BODY -> {
                    exchange.getRequestBody().transferTo(OutputStream.nullOutputStream());
                    quiet();
                }
                case HALF_BODY -> {
                    exchange.getResponseHeaders().set("Content-Type", reply.contentType());
                    exchange.sendResponseHeaders(200, reply.body().length);
                    OutputStream out = exchange.getResponseBody();
                    out.write(reply.body(), 0, reply.body().length / 2);
                    out.flush();
                    quiet();
                }
            }
        }
    }

    /** Holds the exchange open, silent, until the server closes. */
    private void quiet() {
        try {
            closed.await();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    @Override
    public void close() {
        closed.countDown();
        server.stop(0);
        threads.shutdownNow();
    }
}
