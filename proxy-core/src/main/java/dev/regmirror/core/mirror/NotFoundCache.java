package dev.regmirror.core.mirror;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import com.github.benmanes.caffeine.cache.Expiry;
import com.github.benmanes.caffeine.cache.Ticker;
import dev.regmirror.core.error.UpstreamErrorException;
import java.time.Duration;
import java.util.Optional;

/**
 * Upstream "not found" answers remembered for their upstream's not-found TTL, so that a broken CI
 * loop asking for a missing tag again and again does not hammer the upstream. Bounded in size;
 * time comes from the injected ticker.
 */
final class NotFoundCache {

    private record Miss(UpstreamErrorException answer, Duration ttl) {
    }

    private final Cache<Object, Miss> misses;

    NotFoundCache(Ticker ticker) {
        this.misses = Caffeine.newBuilder()
                .ticker(ticker)
                .maximumSize(10_000)
                .expireAfter(new Expiry<Object, Miss>() {
                    @Override
                    public long expireAfterCreate(Object key, Miss miss, long now) {
                        return miss.ttl().toNanos();
                    }

                    @Override
                    public long expireAfterUpdate(Object key, Miss miss, long now, long current) {
                        return miss.ttl().toNanos();
                    }

                    @Override
                    public long expireAfterRead(Object key, Miss miss, long now, long current) {
                        return current;
                    }
                })
                .build();
    }

    /** Remembers the answer for {@code ttl}; a zero TTL remembers nothing. */
    void remember(Object key, UpstreamErrorException answer, Duration ttl) {
        if (!ttl.isZero() && !ttl.isNegative()) {
            misses.put(key, new Miss(answer, ttl));
        }
    }

    Optional<UpstreamErrorException> recall(Object key) {
        return Optional.ofNullable(misses.getIfPresent(key)).map(Miss::answer);
    }
}
