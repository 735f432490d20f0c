package dev.regmirror.server;

import com.typesafe.config.Config;
import dev.regmirror.core.cluster.ClusterSettings;
import dev.regmirror.core.config.MirrorSettings;
import java.io.IOException;
import java.time.Clock;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** Starts regmirror from a loaded configuration: validates it, wires the components, binds. */
public final class ProxyMain {

    private static final Logger LOG = LoggerFactory.getLogger(ProxyMain.class);

    private ProxyMain() {
    }

    /** Validates the configuration and starts the server; the caller closes it. */
    public static ProxyServer start(Config config) throws IOException, InterruptedException {
        return start(config, Clock.systemUTC());
    }

    /** Starts the server on {@code clock} (a test's, to move time without waiting); the caller closes it. */
    public static ProxyServer start(Config config, Clock clock) throws IOException, InterruptedException {
        MirrorSettings mirror = MirrorSettings.from(config);
        ServerSettings server = ServerSettings.from(config);
        AdminSettings admin = AdminSettings.from(config);
        ClusterSettings cluster = ClusterSettings.from(config, mirror.storage());
        server.checkNodeListener(cluster);
        ProxyComponents components = new ProxyComponents(mirror, server, admin, cluster, clock);
        try {
            ProxyServer running = ProxyServer.start(server, components);
            for (ProxyComponents.Listener listener : components.listeners()) {
                ListenerSettings at = listener.settings();
                String api = at.name().equals("admin") ? "admin API" : "registry API";
                LOG.info("{} listening on {} ({}{}{})", api, at.describe(running.port(at.name())),
                        at.allowed().any() ? "any client address" : "clients in " + at.allowed(),
                        listener.tls().map(tls -> "; " + tls.description()).orElse(""),
                        at.name().equals("admin") ? (admin.token().isPresent() ? "; bearer token required"
                                : "; no token: loopback clients only") : "");
            }
            LOG.info("cache in {}, default upstream {}", components.storage().layout().root(), mirror.defaultRegistry());
            if (cluster.enabled()) {
                LOG.info("cluster: this node is {}; peers {}; {}", cluster.self(), cluster.peersDns()
                        .map(dns -> "from DNS name " + dns).orElse(cluster.peers().toString()), cluster.tls().enabled()
                        ? "TLS between the nodes, certificates checked against " + cluster.peerCertificateName()
                                .orElse("each peer's host") + cluster.tls().caFile().map(ca -> ", CAs of " + ca).orElse("")
                        : "plain HTTP between the nodes");
            }
            if (mirror.auth().enabled()) {
                LOG.info("access: {} accounts{}, {} rules{}; tokens at /token", components.accounts().size(),
                        mirror.auth().htpasswd().map(file -> " from " + file).orElse(""), mirror.auth().rules().size(),
                        mirror.auth().accountOnlyRegistries().isEmpty() ? ""
                                : ", accounts only for " + mirror.auth().accountOnlyRegistries());
            } else {
                LOG.info("access: open (no accounts, no rules): every client of a listener may pull");
            }
            return running;
        } catch (Throwable e) { // a failed bind is a checked BindException Netty throws unchecked
            components.close();
            throw e;
        }
    }
}
