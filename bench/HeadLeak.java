import java.io.File;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;

/**
 * Shows the JDK HTTP client keeping a socket open for every response whose head fails to parse (see
 * docs/reliability.md, "Faults from the upstream"): {@code java bench/HeadLeak.java bad} sends 20
 * requests to a local socket answering a head with one wrong byte, {@code good} one answering well;
 * each prints how many descriptors the process holds after them, the client still alive.
 */
public class HeadLeak {

    public static void main(String[] args) throws Exception {
        boolean bad = args.length > 0 && args[0].equals("bad");
        ServerSocket server = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
        Thread answering = new Thread(() -> {
            while (true) {
                try (Socket socket = server.accept()) {
                    InputStream in = socket.getInputStream();
                    int newlines = 0;
                    int b;
                    while (newlines < 2 && (b = in.read()) >= 0) {
                        newlines = b == '\n' ? newlines + 1 : b == '\r' ? newlines : 0;
                    }
                    OutputStream out = socket.getOutputStream();
                    out.write("HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r".getBytes(StandardCharsets.US_ASCII));
                    out.write(bad ? (byte) ~'\n' : '\n');
                    if (!bad) {
                        out.write("0123456789".getBytes(StandardCharsets.US_ASCII));
                    }
                    out.flush();
                } catch (IOException e) {
                    return;
                }
            }
        });
        answering.setDaemon(true);
        answering.start();
        HttpClient http = HttpClient.newHttpClient();
        int before = new File("/proc/self/fd").list().length;
        for (int i = 0; i < 20; i++) {
            try {
                http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + server.getLocalPort() + "/"))
                        .timeout(Duration.ofSeconds(5)).build(), HttpResponse.BodyHandlers.ofString());
            } catch (IOException e) {
                // the malformed head
            }
        }
        Thread.sleep(2_000);
        System.out.println((bad ? "malformed heads" : "good responses") + ": " + before + " descriptors before 20 requests, "
                + new File("/proc/self/fd").list().length + " after (client " + http.version() + " still alive)");
    }
}
