package dev.regmirror.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import dev.regmirror.core.reference.Digest;
import dev.regmirror.server.pipeline.RefusalLog;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.lang.management.ManagementFactory;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketException;
import java.net.SocketTimeoutException;
import java.net.URI;
import java.net.http.HttpResponse;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.LoggerFactory;

/**
 * {@code regmirror.server.limits} against a real server on loopback, with raw sockets as hostile
 * clients write them: oversized heads get 431 and 414 with a registry error, a slowloris is closed
 * at the header timeout while others are served, a slow blob download and a slow import body are
 * not cut, connections past the cap are closed at once, and a client past its burst gets 429 with
 * Retry-After. Other clients come from 127.0.0.2, another loopback address.
 */
class ClientLimitsIT {

    private static final String OTHER_CLIENT = "127.0.0.2";

    @TempDir
    Path cache;

    private final Logger refusalLogger = (Logger) LoggerFactory.getLogger(RefusalLog.class);
    private final ListAppender<ILoggingEvent> refusals = new ListAppender<>();

    @BeforeEach
    void captureRefusals() {
        refusals.start();
        refusalLogger.addAppender(refusals);
    }

    @AfterEach
    void release() {
        refusalLogger.detachAppender(refusals);
    }

    private List<String> refusalLines() {
        return refusals.list.stream().map(ILoggingEvent::getFormattedMessage).toList();
    }

    private MirrorFixture mirror(Map<String, Object> limits) throws Exception {
        int closed;
        try (ServerSocket socket = new ServerSocket(0)) {
            closed = socket.getLocalPort();
        }
        return mirror(URI.create("http://127.0.0.1:" + closed), limits);
    }

    private MirrorFixture mirror(URI upstream, Map<String, Object> limits) throws Exception {
        Map<String, Object> overrides = new java.util.HashMap<>();
        limits.forEach((key, value) -> overrides.put("regmirror.server.limits." + key, value));
        return MirrorFixture.start(upstream, cache, overrides);
    }

    private static Socket connect(String from, int port) throws IOException {
        Socket socket = new Socket();
        socket.bind(new InetSocketAddress(from, 0));
        socket.connect(new InetSocketAddress(InetAddress.getLoopbackAddress(), port), 5_000);
        socket.setSoTimeout(10_000);
        return socket;
    }

    private static void write(Socket socket, String text) throws IOException {
        OutputStream out = socket.getOutputStream();
        out.write(text.getBytes(StandardCharsets.ISO_8859_1));
        out.flush();
    }

    private static String get(String path) {
        return "GET " + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n";
    }

    /** Everything the server sends until it closes the connection; a reset after the answer ends it too. */
    private static String untilClosed(Socket socket) throws IOException {
        ByteArrayOutputStream answer = new ByteArrayOutputStream();
        InputStream in = socket.getInputStream();
        byte[] buffer = new byte[8192];
        try {
            int n;
            while ((n = in.read(buffer)) >= 0) {
                answer.write(buffer, 0, n);
            }
        } catch (SocketTimeoutException e) {
            throw new AssertionError("the connection is still open after 10 s; received: " + answer, e);
        } catch (SocketException e) {
            // A reset: what arrived before it is the answer.
        }
        return answer.toString(StandardCharsets.ISO_8859_1);
    }

    /** One response on a keep-alive connection: its head and then Content-Length bytes of body. */
    private static String response(Socket socket) throws IOException {
        InputStream in = socket.getInputStream();
        StringBuilder head = new StringBuilder();
        while (!head.toString().endsWith("\r\n\r\n")) {
            int b = in.read();
            if (b < 0) {
                throw new IOException("closed after: " + head);
            }
            head.append((char) b);
        }
        int length = 0;
        for (String line : head.toString().split("\r\n")) {
            if (line.toLowerCase().startsWith("content-length:")) {
                length = Integer.parseInt(line.substring(15).trim());
            }
        }
        return head + new String(in.readNBytes(length), StandardCharsets.ISO_8859_1);
    }

    /** Whether the server closed the connection: a read ends at once instead of waiting. */
    private static boolean closedByServer(Socket socket) throws IOException {
        socket.setSoTimeout(5_000);
        try {
            return socket.getInputStream().read() < 0;
        } catch (SocketException e) {
            return true;
        } catch (SocketTimeoutException e) {
            return false;
        }
    }

    @Test
    void oversizedHeadsGet431And414WithARegistryErrorOnBothListeners() throws Exception {
        try (MirrorFixture mirror = mirror(Map.of())) {
            for (int port : List.of(mirror.port(), mirror.adminPort())) {
                try (Socket socket = connect("127.0.0.1", port)) {
                    write(socket, "GET /v2/ HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Big: " + "a".repeat(100_000) + "\r\n\r\n");
                    String answer = untilClosed(socket);
                    assertTrue(answer.startsWith("HTTP/1.1 431 Request Header Fields Too Large\r\n"), answer);
                    assertTrue(answer.endsWith("{\"errors\":[{\"code\":\"HEADERS_TOO_LARGE\",\"message\":\"the request's"
                            + " header fields take more than 16384 bytes together\"}]}"), answer);
                }
                try (Socket socket = connect("127.0.0.1", port)) {
                    write(socket, get("/v2/" + "a".repeat(100_000)));
                    String answer = untilClosed(socket);
                    assertTrue(answer.startsWith("HTTP/1.1 414 Request-URI Too Long\r\n"), answer);
                    assertTrue(answer.endsWith("{\"errors\":[{\"code\":\"URI_TOO_LONG\",\"message\":\"the request line is"
                            + " longer than 8192 bytes\"}]}"), answer);
                }
            }
            assertEquals(200, mirror.get("/v2/").statusCode(), "the server goes on serving");
            assertEquals(4, refusalLines().size(), refusalLines().toString());
        }
    }

    @Test
    void aSlowlorisIsClosedAtTheHeaderTimeoutWhileAnotherClientIsServed() throws Exception {
        try (MirrorFixture mirror = mirror(Map.of("header-timeout", "2s"))) {
            try (Socket slow = connect("127.0.0.1", mirror.port())) {
                long opened = System.nanoTime();
                Thread writer = new Thread(() -> {
                    try {
                        write(slow, "GET /v2/ HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ");
                        for (int i = 0; i < 30; i++) {
                            Thread.sleep(1000);
                            write(slow, "a");
                        }
                    } catch (IOException | InterruptedException e) {
                        // closed by the server, as it should be
                    }
                }, "slowloris");
                writer.setDaemon(true);
                writer.start();
                CompletableFuture<String> slowAnswer = CompletableFuture.supplyAsync(() -> {
                    try {
                        return untilClosed(slow);
                    } catch (IOException e) {
                        throw new IllegalStateException(e);
                    }
                });
                int served = 0;
                while (!slowAnswer.isDone()) {
                    assertEquals(200, mirror.get("/v2/").statusCode());
                    served++;
                    Thread.sleep(100);
                }
                long millis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - opened);
                String answer = slowAnswer.get();
                assertTrue(answer.startsWith("HTTP/1.1 408 Request Timeout\r\n"), answer);
                assertTrue(answer.contains("\"code\":\"REQUEST_TIMEOUT\""), answer);
                assertTrue(millis >= 1_900 && millis < 5_000, "closed after " + millis + " ms");
                assertTrue(served > 3, "the other client was served meanwhile: " + served);
                writer.interrupt();
            }
            assertEquals(1, refusalLines().size(), refusalLines().toString());
            assertTrue(refusalLines().get(0).startsWith("client 127.0.0.1 of the registry listener: answered 408"),
                    refusalLines().get(0));
        }
    }

    /** Waits until a connection opened now, sending nothing, is closed: the header timeout has passed. */
    private static void waitOutTheHeaderTimeout(int port) throws IOException {
        try (Socket witness = connect("127.0.0.1", port)) {
            assertEquals("", untilClosed(witness));
        }
    }

    @Test
    void aBlobDownloadThatStallsLongerThanTheHeaderTimeoutIsNotCut() throws Exception {
        byte[] layer = new byte[3 * 1024 * 1024];
        new Random(7).nextBytes(layer);
        try (PausingRegistry upstream = new PausingRegistry(layer, 1024 * 1024);
             MirrorFixture mirror = mirror(upstream.uri(), Map.of("header-timeout", "2s"));
             Socket client = connect("127.0.0.1", mirror.port())) {
            Digest digest = upstream.layerDigest();
            write(client, get("/v2/library/big/blobs/" + digest));
            InputStream in = client.getInputStream();
            byte[] first = in.readNBytes(1000);
            assertTrue(new String(first, StandardCharsets.ISO_8859_1).startsWith("HTTP/1.1 200 OK\r\n"));

            waitOutTheHeaderTimeout(mirror.port());
            upstream.release();
            ByteArrayOutputStream all = new ByteArrayOutputStream();
            all.write(first);
            int head = new String(first, StandardCharsets.ISO_8859_1).indexOf("\r\n\r\n") + 4;
            byte[] buffer = new byte[64 * 1024];
            while (all.size() < head + layer.length) { // the connection stays open: it is kept alive
                int n = in.read(buffer);
                if (n < 0) {
                    break;
                }
                all.write(buffer, 0, n);
            }
            String text = all.toString(StandardCharsets.ISO_8859_1);
            int bodyStart = text.indexOf("\r\n\r\n") + 4;
            byte[] body = java.util.Arrays.copyOfRange(all.toByteArray(), bodyStart, all.size());
            assertEquals(layer.length, body.length, "the whole blob arrived");
            assertEquals(digest.hex(), HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(body)));
        }
    }

    @Test
    void anImportBodyThatStallsLongerThanTheHeaderTimeoutIsNotCut() throws Exception {
        try (MirrorFixture mirror = mirror(Map.of("header-timeout", "2s"));
             Socket client = connect("127.0.0.1", mirror.adminPort())) {
            String chunk = "not a tar at all\n".repeat(100);
            String chunked = Integer.toHexString(chunk.length()) + "\r\n" + chunk + "\r\n";
            write(client, "POST /admin/import HTTP/1.1\r\nHost: 127.0.0.1\r\nTransfer-Encoding: chunked\r\n\r\n" + chunked);
            waitOutTheHeaderTimeout(mirror.adminPort());
            write(client, chunked + "0\r\n\r\n");
            String answer = untilClosed(client);
            assertTrue(answer.startsWith("HTTP/1.1 400 "), "the import was read to its end and answered: " + answer);
            assertTrue(answer.contains("not a readable tar"), answer);
        }
    }

    @Test
    void pastTheConnectionCapANewConnectionIsClosedAndTheFirstStillServe() throws Exception {
        try (MirrorFixture mirror = mirror(Map.of("connections-per-client", 20))) {
            List<Socket> first = new ArrayList<>();
            try {
                for (int i = 0; i < 20; i++) {
                    first.add(connect("127.0.0.1", mirror.port()));
                }
                for (Socket socket : first) {
                    write(socket, get("/v2/"));
                    assertTrue(response(socket).startsWith("HTTP/1.1 200 OK\r\n"));
                }
                try (Socket extra = connect("127.0.0.1", mirror.port())) {
                    assertTrue(closedByServer(extra), "connection 21 is closed at once");
                }
                try (Socket extra = connect("127.0.0.1", mirror.port())) {
                    assertTrue(closedByServer(extra), "and so is connection 22");
                }
                for (Socket socket : first) {
                    write(socket, get("/v2/"));
                    assertTrue(response(socket).startsWith("HTTP/1.1 200 OK\r\n"), "the first 20 still serve");
                }
                try (Socket other = connect(OTHER_CLIENT, mirror.port())) {
                    write(other, get("/v2/"));
                    assertTrue(response(other).startsWith("HTTP/1.1 200 OK\r\n"), "another address is not capped");
                }
                first.remove(0).close();
                assertTrue(servedWithin(mirror.port(), 5_000), "a closed connection frees its place");
            } finally {
                for (Socket socket : first) {
                    socket.close();
                }
            }
            assertEquals(1, refusalLines().size(), refusalLines().toString());
            assertEquals("client 127.0.0.1 of the registry listener: closing new connections: it holds 20 open, the most"
                    + " regmirror.server.limits.connections-per-client allows; such lines are logged at most once a minute"
                    + " per address", refusalLines().get(0));
        }
    }

    /** Whether a new connection from 127.0.0.1 is served, trying until the server has seen an earlier one close. */
    private static boolean servedWithin(int port, long millis) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(millis);
        while (System.nanoTime() < deadline) {
            try (Socket socket = connect("127.0.0.1", port)) {
                write(socket, get("/v2/"));
                if (response(socket).startsWith("HTTP/1.1 200 OK\r\n")) {
                    return true;
                }
            } catch (IOException refused) {
                Thread.sleep(50);
            }
        }
        return false;
    }

    @Test
    void twoThousandIdleConnectionsFromOneAddressGetTheCapAndOthersAreStillServed() throws Exception {
        int connections = 2000;
        int cap = 256;
        var os = ManagementFactory.getOperatingSystemMXBean();
        if (os instanceof com.sun.management.UnixOperatingSystemMXBean unix) {
            long free = unix.getMaxFileDescriptorCount() - unix.getOpenFileDescriptorCount();
            // Each connection is two descriptors in this JVM until the server closes its end.
            assumeTrue(free > 2L * connections + 500, "needs " + (2 * connections + 500) + " free file descriptors, has "
                    + free + " (ulimit -n)");
        }
        try (MirrorFixture mirror = mirror(Map.of("header-timeout", "60s"))) {
            InetSocketAddress server = new InetSocketAddress(InetAddress.getLoopbackAddress(), mirror.port());
            List<SocketChannel> idle = new ArrayList<>();
            try {
                for (int i = 0; i < connections; i++) {
                    SocketChannel channel = SocketChannel.open(server);
                    channel.configureBlocking(false);
                    idle.add(channel);
                }
                List<SocketChannel> open = stillOpen(idle, connections - cap, 30_000);
                assertEquals(cap, open.size(), "the first " + cap + " stay open, the rest are closed");

                for (SocketChannel channel : List.of(open.get(0), open.get(cap - 1))) {
                    channel.configureBlocking(true);
                    channel.write(ByteBuffer.wrap(get("/v2/").getBytes(StandardCharsets.ISO_8859_1)));
                    ByteBuffer answer = ByteBuffer.allocate(12);
                    while (answer.hasRemaining() && channel.read(answer) >= 0) {
                        // fill
                    }
                    assertEquals("HTTP/1.1 200", new String(answer.array(), StandardCharsets.ISO_8859_1),
                            "a connection within the cap serves");
                }
                try (Socket other = connect(OTHER_CLIENT, mirror.port())) {
                    write(other, get("/v2/"));
                    assertTrue(response(other).startsWith("HTTP/1.1 200 OK\r\n"), "another address is served");
                }
                HttpResponse<byte[]> admin = mirror.http().send(java.net.http.HttpRequest.newBuilder(
                        mirror.adminUri("/admin/jobs")).build(), HttpResponse.BodyHandlers.ofByteArray());
                assertEquals(200, admin.statusCode(), "the admin listener counts its own connections");
            } finally {
                for (SocketChannel channel : idle) {
                    channel.close();
                }
            }
            assertEquals(1, refusalLines().size(), "one line for " + (connections - cap) + " refusals: " + refusalLines());
        }
    }

    /** Polls the connections until {@code expectedClosed} of them were closed by the server; returns the others. */
    private static List<SocketChannel> stillOpen(List<SocketChannel> channels, int expectedClosed, long millis)
            throws Exception {
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(millis);
        ByteBuffer scratch = ByteBuffer.allocate(1);
        List<SocketChannel> open = new ArrayList<>(channels);
        int closed = 0;
        while (closed < expectedClosed && System.nanoTime() < deadline) {
            List<SocketChannel> next = new ArrayList<>();
            for (SocketChannel channel : open) {
                scratch.clear();
                int read;
                try {
                    read = channel.read(scratch);
                } catch (IOException reset) {
                    read = -1;
                }
                if (read < 0) {
                    closed++;
                } else {
                    next.add(channel);
                }
            }
            open = next;
            if (closed < expectedClosed) {
                Thread.sleep(100);
            }
        }
        return open;
    }

    @Test
    void pastTheBurstA429WithRetryAfterAndTheClientIsServedAfterIt() throws Exception {
        try (MirrorFixture mirror = mirror(Map.of("requests-per-second", 0.5, "request-burst", 5));
             Socket client = connect("127.0.0.1", mirror.port())) {
            for (int i = 0; i < 5; i++) {
                write(client, get("/v2/"));
                assertTrue(response(client).startsWith("HTTP/1.1 200 OK\r\n"), "request " + i + " of the burst");
            }
            write(client, get("/v2/"));
            String refused = response(client);
            assertTrue(refused.startsWith("HTTP/1.1 429 Too Many Requests\r\n"), refused);
            assertTrue(refused.contains("\"code\":\"TOOMANYREQUESTS\""), refused);
            String retryAfter = refused.lines().filter(line -> line.toLowerCase().startsWith("retry-after:"))
                    .map(line -> line.substring(12).trim()).findFirst().orElseThrow(() -> new AssertionError(refused));
            assertTrue(retryAfter.equals("1") || retryAfter.equals("2"), "one token every 2 s: " + retryAfter);

            try (Socket other = connect(OTHER_CLIENT, mirror.port())) {
                write(other, get("/v2/"));
                assertTrue(response(other).startsWith("HTTP/1.1 200 OK\r\n"), "another address has its own budget");
            }
            Thread.sleep(TimeUnit.SECONDS.toMillis(Long.parseLong(retryAfter)));
            write(client, get("/v2/"));
            assertTrue(response(client).startsWith("HTTP/1.1 200 OK\r\n"), "served again after Retry-After, same connection");
            assertEquals(1, refusalLines().size(), refusalLines().toString());
        }
    }
}
