package dev.regmirror.core.client.auth;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.regmirror.core.upstream.Credentials;
import dev.regmirror.core.upstream.EndpointSettings;
import java.net.URI;
import java.time.Duration;
import java.util.Optional;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** Which token realms an upstream's credentials may go to. */
class RealmPolicyTest {

    private static RealmPolicy policy(String url, String configuredRealm, boolean credentials) {
        return new RealmPolicy(new EndpointSettings("docker.io", URI.create(url),
                credentials ? Optional.of(new Credentials("u", "p")) : Optional.empty(),
                configuredRealm.isEmpty() ? Optional.empty() : Optional.of(URI.create(configuredRealm)),
                Duration.ofSeconds(5), Duration.ofSeconds(30), Optional.empty(), Optional.empty()));
    }

    @ParameterizedTest(name = "{0} realm {1}, challenge realm {2}: {4}")
    @CsvSource({
            "https://registry-1.docker.io, https://auth.docker.io/token, https://auth.docker.io/token, true, true",
            "https://registry-1.docker.io, https://auth.docker.io/token, https://AUTH.docker.io:443/token/, true, true",
            "https://registry-1.docker.io, https://auth.docker.io/token, https://auth.docker.io/token?x=1, true, true",
            "https://registry-1.docker.io, https://auth.docker.io/token, https://evil.example/token, true, false",
            "https://registry-1.docker.io, https://auth.docker.io/token, http://auth.docker.io/token, true, false",
            "https://registry-1.docker.io, https://auth.docker.io/token, https://auth.docker.io/other, true, false",
            "https://registry-1.docker.io, https://auth.docker.io/token, https://registry-1.docker.io/token, true, false",
            "https://registry-1.docker.io, '', https://auth.docker.io/token, true, false",
            "https://ghcr.io, '', https://ghcr.io/token, true, true",
            "https://ghcr.io, '', https://GHCR.io:8443/token, true, true",
            "https://ghcr.io, '', https://ghcr.io/token, false, false",
    })
    void credentialsGoOnlyWhereConfigured(String url, String configured, String realm, boolean credentials,
                                          boolean allowed) {
        assertEquals(allowed, policy(url, configured, credentials).allowsCredentials(URI.create(realm)));
    }
}
