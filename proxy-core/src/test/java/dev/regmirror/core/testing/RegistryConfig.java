package dev.regmirror.core.testing;

import java.net.URI;
import java.nio.file.Path;

/**
 * The {@code config.yml} of a test registry
 * (<a href="https://distribution.github.io/distribution/about/configuration/">distribution configuration</a>):
 * filesystem storage, deletes enabled, access log on stdout, and optionally proxy mode.
 */
final class RegistryConfig {

    private RegistryConfig() {
    }

    static String yaml(String addr, Path storage, URI remote) {
        String yaml = """
                version: 0.1
                log:
                  level: info
                  formatter: text
                  accesslog:
                    disabled: false
                storage:
                  filesystem:
                    rootdirectory: "%s"
                  delete:
                    enabled: true
                  maintenance:
                    uploadpurging:
                      enabled: false
                http:
                  addr: %s
                  secret: regmirror-test-secret
                """.formatted(storage.toAbsolutePath(), addr);
        if (remote != null) {
            yaml += """
                    proxy:
                      remoteurl: "%s"
                    """.formatted(remote);
        }
        return yaml;
    }
}
