package dev.regmirror.cli;

import dev.regmirror.core.tls.ServerNames;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.nio.file.Path;
import java.security.cert.X509Certificate;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;

/**
 * What {@code regmirror tls init} tells its user: the files it wrote, the two regmirror settings,
 * and where Docker, containerd, podman/CRI-O/skopeo and the system's trust store want the CA, for
 * each name clients may use.
 */
record TlsInitReport(Path directory, ServerNames names, int port) {

    Path caCertificate() {
        return directory.resolve("ca.crt");
    }

    Path caKey() {
        return directory.resolve("ca.key");
    }

    Path serverCertificate() {
        return directory.resolve("server.crt");
    }

    Path serverKey() {
        return directory.resolve("server.key");
    }

    String text(X509Certificate ca, X509Certificate server) {
        StringBuilder text = new StringBuilder();
        text.append("Wrote a CA and a server certificate for ").append(String.join(", ", names.all())).append(" to ")
                .append(directory).append(":\n")
                .append("  ca.crt      the CA's certificate, valid until ").append(until(ca))
                .append(": clients trust the mirror through it\n")
                .append("  ca.key      the CA's private key (mode 0600): whoever has it can make certificates your "
                        + "clients trust; keep it off the clients\n")
                .append("  server.crt  the server's certificate, valid until ").append(until(server))
                .append(", followed by the CA's\n")
                .append("  server.key  the server's private key (mode 0600)\n\n");
        text.append("For regmirror, in conf/application.conf (then restart it):\n\n")
                .append("  regmirror.server.tls.certificate = \"").append(serverCertificate()).append("\"\n")
                .append("  regmirror.server.tls.private-key = \"").append(serverKey()).append("\"\n\n");
        text.append("Clients: each needs ca.crt, in its own place for each name it uses for the mirror.\n\n");
        text.append("Docker (read at each pull, no restart):\n");
        hostPorts().forEach(hostPort -> text.append("  /etc/docker/certs.d/").append(hostPort).append("/ca.crt\n"));
        text.append("\ncontainerd: ca.crt, and a hosts.toml that names it, in the same directory:\n");
        for (String hostPort : hostPorts()) {
            String dir = "/etc/containerd/certs.d/" + hostPort;
            text.append("  ").append(dir).append("/hosts.toml:\n")
                    .append("    server = \"https://").append(hostPort).append("\"\n\n")
                    .append("    [host.\"https://").append(hostPort).append("\"]\n")
                    .append("      ca = \"").append(dir).append("/ca.crt\"\n");
        }
        text.append("  (where the mirror is a [host.\"https://").append(hostPorts().get(0))
                .append("\"] block in another registry's hosts.toml, add the same ca line there)\n");
        text.append("\npodman, CRI-O, buildah, skopeo:\n");
        hostPorts().forEach(hostPort -> text.append("  /etc/containers/certs.d/").append(hostPort).append("/ca.crt\n"));
        text.append("\nThe system's trust store (curl and most other programs), on Debian and Ubuntu:\n")
                .append("  sudo cp ").append(caCertificate()).append(" /usr/local/share/ca-certificates/regmirror-ca.crt\n")
                .append("  sudo update-ca-certificates\n");
        return text.toString();
    }

    /** {@code name:port} per name as clients write it in an image reference; the name alone on 443. */
    List<String> hostPorts() {
        List<String> hostPorts = new ArrayList<>();
        List<String> hosts = new ArrayList<>(names.dnsNames());
        for (InetAddress address : names.addresses()) {
            hosts.add(address instanceof Inet6Address ? "[" + address.getHostAddress() + "]" : address.getHostAddress());
        }
        for (String host : hosts) {
            hostPorts.add(port == 443 ? host : host + ":" + port);
        }
        return hostPorts;
    }

    private static String until(X509Certificate certificate) {
        return certificate.getNotAfter().toInstant().atOffset(ZoneOffset.UTC).toLocalDate().toString();
    }
}
