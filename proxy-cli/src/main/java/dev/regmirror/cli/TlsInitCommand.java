package dev.regmirror.cli;

import dev.regmirror.core.tls.LocalCa;
import dev.regmirror.core.tls.PemFiles;
import dev.regmirror.core.tls.ServerNames;
import dev.regmirror.core.tls.TlsMaterial;
import java.io.IOException;
import java.nio.file.AccessDeniedException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code regmirror tls init}: makes a local CA and a server certificate signed by it, writes
 * {@code ca.crt}, {@code ca.key}, {@code server.crt} (the server's certificate, then the CA's) and
 * {@code server.key}, and prints the settings and where each client wants the CA.
 */
@Command(name = "init", mixinStandardHelpOptions = true,
        description = "Make a CA of your own and a server certificate it signs for the names clients use for the "
                + "mirror; print the settings for regmirror and where each client wants the CA.")
final class TlsInitCommand implements Callable<Integer> {

    @Option(names = "--host", paramLabel = "NAME", description = "A DNS name clients use for the mirror (repeatable).")
    private List<String> hosts = new ArrayList<>();

    @Option(names = "--ip", paramLabel = "ADDRESS", description = "An IP address clients use for the mirror (repeatable).")
    private List<String> addresses = new ArrayList<>();

    @Option(names = "--dir", paramLabel = "DIR", defaultValue = "tls",
            description = "Where to write the four files (created if missing); default: ./${DEFAULT-VALUE}.")
    private Path directory;

    @Option(names = "--port", paramLabel = "PORT", defaultValue = "5443",
            description = "The port clients reach the mirror's HTTPS on, for the client paths shown; default: ${DEFAULT-VALUE}.")
    private int port;

    @Option(names = "--force", description = "Replace files a previous run wrote.")
    private boolean force;

    @Override
    public Integer call() {
        if (hosts.isEmpty() && addresses.isEmpty()) {
            System.err.println("regmirror: tls init needs at least one --host NAME or --ip ADDRESS: "
                    + "the names clients use for the mirror");
            return 2;
        }
        if (port < 1 || port > 65535) {
            System.err.println("regmirror: --port must be 1 to 65535, was " + port);
            return 2;
        }
        for (String host : hosts) {
            if (host.matches("[^:/]+:[0-9]+")) {
                System.err.println("regmirror: --host " + host + ": give the name alone, and the port with --port");
                return 2;
            }
        }
        ServerNames names;
        try {
            names = ServerNames.parse(hosts, addresses);
        } catch (IllegalArgumentException e) {
            System.err.println("regmirror: " + e.getMessage());
            return 2;
        }
        TlsInitReport report = new TlsInitReport(directory.toAbsolutePath().normalize(), names, port);
        List<Path> existing = Stream.of(report.caCertificate(), report.caKey(), report.serverCertificate(), report.serverKey())
                .filter(Files::exists).toList();
        if (!existing.isEmpty() && !force) {
            System.err.println("regmirror: " + existing.stream().map(Path::toString).collect(Collectors.joining(", "))
                    + (existing.size() == 1 ? " already exists" : " already exist") + "; add --force to replace");
            return 1;
        }
        Clock clock = Clock.systemUTC();
        LocalCa ca = LocalCa.create("regmirror CA " + names.first() + " " + LocalDate.now(clock.withZone(ZoneOffset.UTC)),
                clock);
        TlsMaterial server = ca.issueServer(names);
        try {
            Files.createDirectories(report.directory());
            PemFiles.write(ca.material(), report.caCertificate(), report.caKey(), force);
            PemFiles.write(server, report.serverCertificate(), report.serverKey(), force);
        } catch (IOException e) {
            System.err.println("regmirror: cannot write the TLS files to " + report.directory() + ": " + reason(e));
            return 1;
        }
        System.out.print(report.text(ca.certificate(), server.leaf()));
        return 0;
    }

    private static String reason(IOException e) {
        if (e instanceof AccessDeniedException denied) {
            return denied.getFile() + ": permission denied";
        }
        if (e instanceof FileAlreadyExistsException exists) {
            return exists.getFile() + " exists";
        }
        return e.getMessage() == null ? e.toString() : e.getMessage();
    }
}
