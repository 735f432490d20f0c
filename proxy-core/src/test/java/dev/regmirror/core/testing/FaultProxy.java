package dev.regmirror.core.testing;

import java.io.BufferedInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketException;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A TCP proxy in front of an HTTP/1.1 upstream that spoils responses on a seeded random schedule:
 * each response gets one {@link Fault}, drawn from a {@link Random} seeded with the proxy's seed
 * and the connection's number, so a failing run is replayed by its seed (the {@code k}th response
 * of connection {@code n} always gets the same fault and offsets; which request lands there
 * depends on thread timing).
 *
 * <p>The proxy follows the exchanges of a kept-alive connection: it notes each request's method
 * (a HEAD's response has no body) and reads each response's head for its {@code Content-Length}.
 * Offsets are taken within the response. A fault that spoils the bytes ({@link Fault#RESET},
 * {@link Fault#HALF_CLOSE}, {@link Fault#TRUNCATE}, {@link Fault#FLIP}) or answers in place of the
 * upstream ({@link Fault#STATUS}) ends the connection; after {@link Fault#NONE}, {@link Fault#STALL}
 * and {@link Fault#TRICKLE} it carries on with the next exchange. A response of unknown length
 * (read to the end) is the connection's last. Plain sockets and two threads per
 * connection: the volume of a test, not of a benchmark. A chunked response is followed chunk by
 * chunk, its offsets counted in the head only (its length is not known up front), and the
 * connection carries on after it; interim {@code 100 Continue} answers pass untouched.
 */
public final class FaultProxy implements AutoCloseable {

    /** What happens to a connection. */
    public enum Fault {
        /** Forwarded untouched, both ways, for as long as both ends keep it. */
        NONE,
        /** Both sockets reset (RST, linger 0) at a random offset of the response. */
        RESET,
        /** One pause of 100 ms up to {@link #maxStallMillis()} at a random offset, then forwarded. */
        STALL,
        /** The first 1 to 64 KiB of the response in writes of 1 to 512 bytes, 1 to 5 ms apart. */
        TRICKLE,
        /** The proxy's side towards the client shut down (FIN) at a random offset; it still reads. */
        HALF_CLOSE,
        /** The head intact, the body cut short (FIN) at a random offset. */
        TRUNCATE,
        /** The head and length intact, one byte of the body inverted, then the connection closed. */
        FLIP,
        /** The upstream's response replaced by a 500, 502, 503, 504 or 429 (with Retry-After: 1). */
        STATUS
    }

    private static final int[] STATUSES = {500, 502, 503, 504, 429};

    private final ServerSocket server;
    private final InetSocketAddress upstream;
    private final long seed;
    private final int maxStallMillis;
    private final AtomicInteger connections = new AtomicInteger();
    private final Map<Fault, AtomicLong> chosen = new EnumMap<>(Fault.class);
    private final Map<Fault, AtomicLong> applied = new EnumMap<>(Fault.class);
    private final Set<Socket> open = ConcurrentHashMap.newKeySet();
    private final Map<Integer, List<Fault>> byClientPort = new ConcurrentHashMap<>();
    private final ExecutorService threads = Executors.newCachedThreadPool(runnable -> {
        Thread thread = new Thread(runnable, "fault-proxy");
        thread.setDaemon(true);
        return thread;
    });
    private volatile double faultRate;
    /** The faults a spoilt response draws from, uniformly. */
    private volatile List<Fault> kinds = List.of(Fault.values()).subList(1, Fault.values().length);

    private FaultProxy(URI upstream, long seed, double faultRate, int maxStallMillis) throws IOException {
        this.upstream = new InetSocketAddress(upstream.getHost(), upstream.getPort());
        this.seed = seed;
        this.faultRate = faultRate;
        this.maxStallMillis = maxStallMillis;
        for (Fault fault : Fault.values()) {
            chosen.put(fault, new AtomicLong());
            applied.put(fault, new AtomicLong());
        }
        this.server = new ServerSocket(0, 200, InetAddress.getLoopbackAddress());
        threads.execute(this::acceptLoop);
    }

    /**
     * Starts a proxy to {@code upstream} ({@code http://host:port}) that spoils a response with
     * probability {@code faultRate}, by a fault drawn uniformly from the others, stalls lasting up to
     * {@code maxStallMillis}.
     */
    public static FaultProxy start(URI upstream, long seed, double faultRate, int maxStallMillis) throws IOException {
        return new FaultProxy(upstream, seed, faultRate, maxStallMillis);
    }

    /** The seed of the system property {@code name} if set, else a fresh one; print it so a run can be replayed. */
    public static long seedFrom(String name) {
        String given = System.getProperty(name, "");
        return given.isBlank() ? new Random().nextLong() : Long.parseLong(given.trim());
    }

    public URI uri() {
        return URI.create("http://127.0.0.1:" + server.getLocalPort());
    }

    public long seed() {
        return seed;
    }

    public int maxStallMillis() {
        return maxStallMillis;
    }

    /** From now on, responses are spoilt with this probability (0: a plain proxy). */
    public void faultRate(double rate) {
        this.faultRate = rate;
    }

    /**
     * From now on, a spoilt response draws its fault from these only (all but {@link Fault#NONE}
     * unless told): {@code faults(Fault.STALL)} with a rate of 1 slows every exchange, as a store or
     * registry far away would, without breaking any.
     */
    public void faults(Fault... only) {
        if (only.length == 0 || List.of(only).contains(Fault.NONE)) {
            throw new IllegalArgumentException("name at least one fault, NONE not among them");
        }
        this.kinds = List.of(only);
    }

    /** How many connections were accepted. */
    public int connections() {
        return connections.get();
    }

    /** How many responses drew each fault ({@link Fault#NONE}: forwarded untouched). */
    public Map<Fault, Long> chosen() {
        return snapshot(chosen);
    }

    /**
     * How many responses each fault was carried out on: a fault whose offset lies past the end of
     * what the upstream sent (a body cut off by the upstream first) is chosen but not applied.
     */
    public Map<Fault, Long> applied() {
        return snapshot(applied);
    }

    /** {@code seed=…, connections=…, applied {RESET=…}} for a test's failure message and report. */
    public String summary() {
        return "seed=" + seed + " (replay with -D<seed property>=" + seed + "), connections=" + connections()
                + ", faults applied " + applied() + ", chosen " + chosen();
    }

    /** Connections open right now, both sides counted. */
    public int openSockets() {
        return open.size();
    }

    @Override
    public void close() {
        try {
            server.close();
        } catch (IOException e) {
            // closing anyway
        }
        open.forEach(FaultProxy::closeQuietly);
        threads.shutdownNow();
        try {
            threads.awaitTermination(5, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private static Map<Fault, Long> snapshot(Map<Fault, AtomicLong> counts) {
        Map<Fault, Long> copy = new EnumMap<>(Fault.class);
        counts.forEach((fault, count) -> copy.put(fault, count.get()));
        return copy;
    }

    private void acceptLoop() {
        while (!server.isClosed()) {
            Socket client;
            try {
                client = server.accept();
            } catch (IOException e) {
                return;
            }
            int number = connections.incrementAndGet();
            Random random = new Random(mix(seed + number * 0x9E3779B97F4A7C15L));
            open.add(client);
            try {
                threads.execute(() -> serve(client, random));
            } catch (RuntimeException e) { // shut down
                closeQuietly(client);
                open.remove(client);
            }
        }
    }

    /** MurmurHash3's finalizer: neighbouring seeds give unrelated {@link Random} sequences. */
    private static long mix(long z) {
        z = (z ^ (z >>> 33)) * 0xff51afd7ed558ccdL;
        z = (z ^ (z >>> 33)) * 0xc4ceb9fe1a85ec53L;
        return z ^ (z >>> 33);
    }

    /**
     * The faults drawn so far for the responses of connections from the client port {@code port}
     * (ports are reused, so possibly of several connections): what a socket the client left open
     * went through.
     */
    public List<Fault> faultsOfClientPort(int port) {
        return List.copyOf(byClientPort.getOrDefault(port, List.of()));
    }

    private Fault draw(Random random) {
        boolean spoil = random.nextDouble() < faultRate;
        List<Fault> from = kinds;
        Fault kind = from.get(random.nextInt(from.size()));
        Fault fault = spoil ? kind : Fault.NONE;
        chosen.get(fault).incrementAndGet();
        return fault;
    }

    private void serve(Socket client, Random random) {
        Socket upstreamSocket = null;
        try {
            client.setTcpNoDelay(true);
            upstreamSocket = new Socket();
            open.add(upstreamSocket);
            upstreamSocket.setTcpNoDelay(true);
            upstreamSocket.connect(upstream, 2_000);
            BlockingQueue<String> methods = new LinkedBlockingQueue<>();
            InputStream fromClient = new BufferedInputStream(client.getInputStream());
            Socket up = upstreamSocket;
            threads.execute(() -> pumpRequests(fromClient, up, methods));
            pumpResponses(up, client, random, methods);
        } catch (IOException | RuntimeException e) {
            // a broken connection is what this proxy is for; the other side sees it closed
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } finally {
            closeQuietly(client);
            open.remove(client);
            if (upstreamSocket != null) {
                closeQuietly(upstreamSocket);
                open.remove(upstreamSocket);
            }
        }
    }

    /**
     * Client to upstream, untouched, noting each request's method for the response pump (a HEAD's
     * response has no body); a request body of a declared length is passed on too.
     */
    private void pumpRequests(InputStream in, Socket up, BlockingQueue<String> methods) {
        byte[] buffer = new byte[16 * 1024];
        try {
            OutputStream out = up.getOutputStream();
            byte[] head;
            while ((head = HttpHeads.read(in)) != null) {
                String text = new String(head, StandardCharsets.ISO_8859_1);
                methods.add(text.substring(0, Math.max(0, text.indexOf(' '))));
                out.write(head);
                long remaining = Math.max(HttpHeads.contentLength(text), 0);
                while (remaining > 0) {
                    int n = in.read(buffer, 0, (int) Math.min(buffer.length, remaining));
                    if (n < 0) {
                        break;
                    }
                    out.write(buffer, 0, n);
                    remaining -= n;
                }
                out.flush();
            }
            up.shutdownOutput();
        } catch (IOException | RuntimeException e) {
            // one side is gone; the response pump notices too
        }
    }

    /**
     * Upstream to client, one response at a time, each with a fault of its own; returns when a
     * fault ends the connection or either side closes it.
     */
    private void pumpResponses(Socket up, Socket client, Random random, BlockingQueue<String> methods)
            throws IOException, InterruptedException {
        InputStream in = new BufferedInputStream(up.getInputStream());
        byte[] buffer = new byte[16 * 1024];
        byte[] head;
        while ((head = HttpHeads.read(in)) != null) {
            if (HttpHeads.interim(head)) { // 100 Continue: the request's answer is still to come
                client.getOutputStream().write(head);
                client.getOutputStream().flush();
                continue;
            }
            String method = methods.poll(10, TimeUnit.SECONDS);
            long bodyLength = "HEAD".equals(method) ? 0 : HttpHeads.bodyLength(head);
            Fault fault = draw(random);
            byClientPort.computeIfAbsent(client.getPort(), p -> new java.util.concurrent.CopyOnWriteArrayList<>())
                    .add(fault);
            if (fault == Fault.STATUS) {
                answerStatus(client, random, "HEAD".equals(method));
                return;
            }
            long whole = head.length + Math.max(bodyLength, 0);
            long offset = switch (fault) {
                case TRUNCATE, FLIP -> bodyLength <= 0 ? head.length - 1 // no body: spoil the head's last byte
                        : head.length + (long) (random.nextDouble() * bodyLength);
                case NONE -> Long.MAX_VALUE;
                default -> (long) (random.nextDouble() * whole);
            };
            Writer writer = new Writer(client, up, fault, offset, random);
            writer.write(head, head.length);
            boolean chunked = !"HEAD".equals(method) && HttpHeads.chunked(head);
            if (chunked) {
                if (!copyChunks(in, writer, buffer)) {
                    return;
                }
            } else {
                long remaining = bodyLength < 0 ? Long.MAX_VALUE : bodyLength;
                while (!writer.done && remaining > 0) {
                    int n = in.read(buffer, 0, (int) Math.min(buffer.length, remaining));
                    if (n < 0) {
                        return;
                    }
                    writer.write(buffer, n);
                    remaining -= n;
                }
            }
            if (writer.halfClosed) {
                drainUntilClosed(client);
            }
            if (writer.done || (bodyLength < 0 && !chunked) || fault == Fault.FLIP) {
                return; // a spoilt response ends its connection; one read to its end ended with it
            }
        }
    }

    /**
     * Copies a chunked body, its framing included, through the writer, up to the end of its
     * trailers; false if the upstream ended first.
     */
    private static boolean copyChunks(InputStream in, Writer writer, byte[] buffer) throws IOException {
        while (!writer.done) {
            byte[] sizeLine = HttpHeads.line(in);
            if (sizeLine == null) {
                return false;
            }
            writer.write(sizeLine, sizeLine.length);
            long size = HttpHeads.chunkSize(sizeLine);
            if (size == 0) {
                byte[] trailer;
                do {
                    trailer = HttpHeads.line(in);
                    if (trailer == null) {
                        return false;
                    }
                    writer.write(trailer, trailer.length);
                } while (trailer.length > 2);
                return true;
            }
            long remaining = size + 2; // the data and its CRLF
            while (!writer.done && remaining > 0) {
                int n = in.read(buffer, 0, (int) Math.min(buffer.length, remaining));
                if (n < 0) {
                    return false;
                }
                writer.write(buffer, n);
                remaining -= n;
            }
        }
        return true;
    }

    /** Writes the upstream's bytes to the client, applying the fault when its offset comes. */
    private final class Writer {
        private final Socket client;
        private final Socket up;
        private final OutputStream out;
        private final Fault fault;
        private final long offset;
        private final Random random;
        private long position;
        private boolean done;
        private boolean halfClosed;
        private long trickleLeft;

        Writer(Socket client, Socket up, Fault fault, long offset, Random random) throws IOException {
            this.client = client;
            this.up = up;
            this.out = client.getOutputStream();
            this.fault = fault;
            this.offset = offset;
            this.random = random;
            this.trickleLeft = fault == Fault.TRICKLE ? 1024 + random.nextInt(64 * 1024) : 0;
        }

        void write(byte[] bytes, int length) throws IOException {
            int from = 0;
            while (from < length && !done) {
                long untilFault = offset - position;
                if (untilFault > 0) {
                    int n = (int) Math.min(untilFault, length - from);
                    out.write(bytes, from, n);
                    out.flush();
                    from += n;
                    position += n;
                    continue;
                }
                from += apply(bytes, from, length - from);
            }
        }

        /** At or past the offset: carries out the fault on what is left; returns how many bytes it used. */
        private int apply(byte[] bytes, int from, int length) throws IOException {
            switch (fault) {
                case RESET -> {
                    applied.get(fault).incrementAndGet();
                    done = true;
                    throw reset();
                }
                case HALF_CLOSE -> {
                    applied.get(fault).incrementAndGet();
                    done = true;
                    halfClosed = true;
                    out.flush();
                    client.shutdownOutput();
                    return length;
                }
                case TRUNCATE -> {
                    applied.get(fault).incrementAndGet();
                    done = true;
                    out.flush();
                    return length;
                }
                case FLIP -> {
                    if (position == offset) {
                        applied.get(fault).incrementAndGet();
                        bytes[from] = (byte) ~bytes[from];
                    }
                    out.write(bytes, from, length);
                    out.flush();
                    position += length;
                    return length;
                }
                case STALL -> {
                    if (position == offset) {
                        applied.get(fault).incrementAndGet();
                        pause(100 + random.nextInt(Math.max(1, maxStallMillis - 100)));
                    }
                    out.write(bytes, from, length);
                    position += length;
                    return length;
                }
                case TRICKLE -> {
                    if (position == offset) {
                        applied.get(fault).incrementAndGet();
                    }
                    if (trickleLeft <= 0) {
                        out.write(bytes, from, length);
                        out.flush();
                        position += length;
                        return length;
                    }
                    int n = (int) Math.min(Math.min(length, trickleLeft), 1 + random.nextInt(512));
                    out.write(bytes, from, n);
                    out.flush();
                    position += n;
                    trickleLeft -= n;
                    pause(1 + random.nextInt(5));
                    return n;
                }
                default -> {
                    out.write(bytes, from, length);
                    position += length;
                    return length;
                }
            }
        }

        private IOException reset() {
            for (Socket socket : new Socket[] {client, up}) {
                try {
                    socket.setSoLinger(true, 0);
                } catch (SocketException e) {
                    // already closed
                }
                closeQuietly(socket);
            }
            return new IOException("reset by the fault proxy");
        }
    }

    private void answerStatus(Socket client, Random random, boolean head) throws IOException {
        int status = STATUSES[random.nextInt(STATUSES.length)];
        applied.get(Fault.STATUS).incrementAndGet();
        String body = "{\"errors\":[{\"code\":\"" + (status == 429 ? "TOOMANYREQUESTS" : "UNAVAILABLE")
                + "\",\"message\":\"injected by the fault proxy\"}]}";
        String response = "HTTP/1.1 " + status + " Injected\r\nContent-Type: application/json\r\nContent-Length: "
                + body.length() + "\r\n" + (status == 429 ? "Retry-After: 1\r\n" : "") + "Connection: close\r\n\r\n"
                + (head ? "" : body);
        OutputStream out = client.getOutputStream();
        out.write(response.getBytes(StandardCharsets.ISO_8859_1));
        out.flush();
    }

    /** After a half-close, reads what the client still sends until it closes, at most 30 s. */
    private static void drainUntilClosed(Socket client) {
        try {
            client.setSoTimeout(30_000);
            InputStream in = client.getInputStream();
            byte[] buffer = new byte[4096];
            while (in.read(buffer) >= 0) {
                // discard
            }
        } catch (IOException e) {
            // closed or timed out
        }
    }

    private static void pause(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private static void closeQuietly(Socket socket) {
        try {
            socket.close();
        } catch (IOException e) {
            // already closed
        }
    }
}
