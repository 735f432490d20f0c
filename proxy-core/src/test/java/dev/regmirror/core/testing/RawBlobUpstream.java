package dev.regmirror.core.testing;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * An upstream on a raw socket that answers every request with 200 and a blob's full
 * Content-Length, sends its first part, and then either closes the connection (a download cut off
 * midway) or holds it until the test releases the rest (a slow upstream, for timing what the
 * client sees before the upstream is done). WireMock cannot pause in the middle of a body.
 */
public final class RawBlobUpstream implements AutoCloseable {

    private final ServerSocket socket;
    private final AtomicInteger requests = new AtomicInteger();
    private final CountDownLatch release = new CountDownLatch(1);

    private RawBlobUpstream(byte[] blob, int firstPart, boolean holdForRelease) throws IOException {
        socket = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
        Thread acceptor = new Thread(() -> serve(blob, firstPart, holdForRelease), "raw-blob-upstream");
        acceptor.setDaemon(true);
        acceptor.start();
    }

    /** Sends {@code sentBytes} of the blob, then closes the connection. */
    public static RawBlobUpstream truncating(byte[] blob, int sentBytes) throws IOException {
        return new RawBlobUpstream(blob, sentBytes, false);
    }

    /** Sends {@code firstPart} of the blob, then the rest only after {@link #release()}. */
    public static RawBlobUpstream pausing(byte[] blob, int firstPart) throws IOException {
        return new RawBlobUpstream(blob, firstPart, true);
    }

    private void serve(byte[] blob, int firstPart, boolean holdForRelease) {
        while (!socket.isClosed()) {
            try (Socket client = socket.accept()) {
                BufferedReader in = new BufferedReader(new InputStreamReader(client.getInputStream(),
                        StandardCharsets.ISO_8859_1));
                String line;
                while ((line = in.readLine()) != null && !line.isEmpty()) {
                    // skip the request head
                }
                requests.incrementAndGet();
                OutputStream out = client.getOutputStream();
                out.write(("HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\nContent-Length: "
                        + blob.length + "\r\n\r\n").getBytes(StandardCharsets.ISO_8859_1));
                out.write(blob, 0, firstPart);
                out.flush();
                if (holdForRelease && release.await(30, TimeUnit.SECONDS)) {
                    out.write(blob, firstPart, blob.length - firstPart);
                    out.flush();
                }
            } catch (IOException e) {
                // closed, or the client went away: next connection
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            }
        }
    }

    /** Lets a pausing upstream send the rest of the blob. */
    public void release() {
        release.countDown();
    }

    public URI uri() {
        return URI.create("http://127.0.0.1:" + socket.getLocalPort());
    }

    public int requests() {
        return requests.get();
    }

    @Override
    public void close() throws IOException {
        release.countDown();
        socket.close();
    }
}
