package dev.regmirror.server;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Request targets no client library will send (a malformed percent-escape), written raw to both
 * listeners: each gets its 400 at once, never a connection left waiting for the idle timeout
 * (before, none was answered for the 120 s of it).
 */
class MalformedRequestIT {

    @TempDir
    Path cache;

    /** The answer's status line and body, read until the response's declared length or the timeout. */
    private static String exchange(int port, String target) throws Exception {
        try (Socket socket = new Socket(InetAddress.getLoopbackAddress(), port)) {
            socket.setSoTimeout(10_000);
            OutputStream out = socket.getOutputStream();
            out.write(("GET " + target + " HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
                    .getBytes(StandardCharsets.US_ASCII));
            out.flush();
            InputStream in = socket.getInputStream();
            ByteArrayOutputStream answer = new ByteArrayOutputStream();
            try {
                in.transferTo(answer);
            } catch (SocketTimeoutException e) {
                throw new AssertionError(target + ": no answer within 10 s, only: " + answer);
            }
            return answer.toString(StandardCharsets.UTF_8);
        }
    }

    private static void assertRefused(String answer, String code) {
        assertTrue(answer.startsWith("HTTP/1.1 400 "), answer);
        assertTrue(answer.contains("\"code\":\"" + code + "\""), answer);
    }

    @Test
    void malformedEscapesGetTheirAnswerAtOnce() throws Exception {
        int closed;
        try (ServerSocket socket = new ServerSocket(0)) {
            closed = socket.getLocalPort();
        }
        try (MirrorFixture mirror = MirrorFixture.start(URI.create("http://127.0.0.1:" + closed), cache, Map.of())) {
            assertRefused(exchange(mirror.port(), "/v2/%zz/manifests/latest"), "NAME_INVALID");
            assertRefused(exchange(mirror.port(), "/v2/_catalog?last=%zz"), "PARAMETER_INVALID");
            assertRefused(exchange(mirror.port(), "/v2/library/alpine/tags/list?n=10&last=%z"), "PARAMETER_INVALID");
            assertRefused(exchange(mirror.adminPort(), "/admin/images?prefix=%zz"), "PARAMETER_INVALID");
            String unknown = exchange(mirror.adminPort(), "/admin/%zz");
            assertTrue(unknown.startsWith("HTTP/1.1 404 "), unknown);

            String fine = exchange(mirror.port(), "/v2/");
            assertTrue(fine.startsWith("HTTP/1.1 200 "), "the server goes on answering: " + fine);
        }
    }
}
