package dev.regmirror.core.client.auth;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.regmirror.core.auth.token.Scope;
import dev.regmirror.core.reference.RepositoryName;
import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

/** Token lifetimes on a hand-moved ticker. */
class TokenCacheTest {

    private static final Scope ALPINE = Scope.pull(new RepositoryName("library/alpine"));
    private static final Scope BUSYBOX = Scope.pull(new RepositoryName("library/busybox"));

    private final AtomicLong nanos = new AtomicLong();
    private final TokenCache cache = new TokenCache(nanos::get);

    private void advance(Duration duration) {
        nanos.addAndGet(duration.toNanos());
    }

    @Test
    void tokenLivesUntilShortlyBeforeItsExpiry() {
        BearerToken token = new BearerToken("t1", Duration.ofSeconds(300));
        cache.put("docker.io", ALPINE, token);

        advance(Duration.ofSeconds(289));
        assertEquals(Optional.of(token), cache.get("docker.io", ALPINE));
        advance(Duration.ofSeconds(1));
        assertEquals(Optional.empty(), cache.get("docker.io", ALPINE));
    }

    @Test
    void marginIsATenthForShortTokensAndAtMostTenSeconds() {
        assertEquals(Duration.ofSeconds(54), TokenCache.lifetime(new BearerToken("t", Duration.ofSeconds(60))));
        assertEquals(Duration.ofSeconds(3590), TokenCache.lifetime(new BearerToken("t", Duration.ofHours(1))));
    }

    @Test
    void tokensAreKeptPerRegistryAndScope() {
        cache.put("docker.io", ALPINE, new BearerToken("t1", Duration.ofSeconds(300)));

        assertEquals(Optional.empty(), cache.get("docker.io", BUSYBOX));
        assertEquals(Optional.empty(), cache.get("ghcr.io", ALPINE));
    }

    @Test
    void invalidateDropsOnlyTheRefusedToken() {
        BearerToken refused = new BearerToken("t1", Duration.ofSeconds(300));
        BearerToken replacement = new BearerToken("t2", Duration.ofSeconds(300));
        cache.put("docker.io", ALPINE, replacement);

        cache.invalidate("docker.io", ALPINE, refused);
        assertEquals(Optional.of(replacement), cache.get("docker.io", ALPINE));
        cache.invalidate("docker.io", ALPINE, replacement);
        assertEquals(Optional.empty(), cache.get("docker.io", ALPINE));
    }
}
