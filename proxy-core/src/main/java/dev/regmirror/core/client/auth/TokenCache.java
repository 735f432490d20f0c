package dev.regmirror.core.client.auth;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import com.github.benmanes.caffeine.cache.Expiry;
import com.github.benmanes.caffeine.cache.Ticker;
import dev.regmirror.core.auth.token.Scope;
import java.time.Duration;
import java.util.Objects;
import java.util.Optional;

/**
 * Bearer tokens per upstream registry and scope, each kept until a little before the
 * {@code expires_in} its realm gave, on an injected Caffeine {@link Ticker} so tests move time by hand.
 */
public final class TokenCache {

    private static final Duration MAX_MARGIN = Duration.ofSeconds(10);
    private static final long MAX_ENTRIES = 10_000;

    private final Cache<Key, BearerToken> tokens;

    public TokenCache(Ticker ticker) {
        this.tokens = Caffeine.newBuilder()
                .ticker(Objects.requireNonNull(ticker, "ticker"))
                .maximumSize(MAX_ENTRIES)
                .expireAfter(new UntilTokenExpiry())
                .build();
    }

    /** Each entry lives for its token's {@link #lifetime}, counted from when it was put. */
    private static final class UntilTokenExpiry implements Expiry<Key, BearerToken> {

        @Override
        public long expireAfterCreate(Key key, BearerToken token, long now) {
            return lifetime(token).toNanos();
        }

        @Override
        public long expireAfterUpdate(Key key, BearerToken token, long now, long remaining) {
            return lifetime(token).toNanos();
        }

        @Override
        public long expireAfterRead(Key key, BearerToken token, long now, long remaining) {
            return remaining;
        }
    }

    /** How long a token is used: its expiry less a tenth of it, at most ten seconds less. */
    static Duration lifetime(BearerToken token) {
        Duration margin = token.expiresIn().dividedBy(10);
        return token.expiresIn().minus(margin.compareTo(MAX_MARGIN) > 0 ? MAX_MARGIN : margin);
    }

    public Optional<BearerToken> get(String registry, Scope scope) {
        return Optional.ofNullable(tokens.getIfPresent(new Key(registry, scope)));
    }

    public void put(String registry, Scope scope, BearerToken token) {
        tokens.put(new Key(registry, scope), token);
    }

    /** Drops a token the upstream refused, unless another request already replaced it. */
    public void invalidate(String registry, Scope scope, BearerToken refused) {
        tokens.asMap().remove(new Key(registry, scope), refused);
    }

    private record Key(String registry, Scope scope) {

        Key {
            Objects.requireNonNull(registry, "registry");
            Objects.requireNonNull(scope, "scope");
        }
    }
}
