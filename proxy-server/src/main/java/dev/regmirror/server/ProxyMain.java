package dev.regmirror.server;

import com.typesafe.config.Config;
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
        MirrorSettings mirror = MirrorSettings.from(config);
        ServerSettings server = ServerSettings.from(config);
        ProxyComponents components = new ProxyComponents(mirror, server, Clock.systemUTC());
        try {
            ProxyServer running = ProxyServer.start(server, components);
            LOG.info("regmirror listening on {}:{}, cache in {}, default upstream {}", server.host(), running.port(),
                    components.blobStore().root(), mirror.defaultRegistry());
            return running;
        } catch (InterruptedException | RuntimeException e) {
            components.close();
            throw e;
        }
    }
}
