package dev.regmirror.core.mirror;

import java.time.Duration;
import java.util.Objects;

/**
 * How an upstream's tags and misses are cached: a tag resolved within {@code tagTtl} is answered
 * without asking the upstream; an upstream "not found" is remembered for {@code notFoundTtl}; and
 * when the upstream reports {@code ratelimit-remaining} at or below {@code rateLimitFloor}, a tag
 * that would need a (counted) manifest GET is served from the cache instead.
 */
public record TagPolicy(Duration tagTtl, Duration notFoundTtl, long rateLimitFloor) {

    public TagPolicy {
        Objects.requireNonNull(tagTtl, "tagTtl");
        Objects.requireNonNull(notFoundTtl, "notFoundTtl");
    }

    /** Revalidate every time, remember no miss, ignore rate limits: the behaviour of a plain proxy. */
    public static final TagPolicy ALWAYS_ASK = new TagPolicy(Duration.ZERO, Duration.ZERO, -1);
}
