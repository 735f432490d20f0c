package dev.regmirror.server.pipeline;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.net.InetAddress;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

/** The token bucket per address on a hand-moved clock: burst, refill, the wait it reports, and forgetting. */
class TokenBucketsTest {

    private final AtomicLong now = new AtomicLong(1_000_000_000L);

    private static InetAddress ip(String address) throws Exception {
        return InetAddress.getByName(address);
    }

    private void advanceMillis(long millis) {
        now.addAndGet(TimeUnit.MILLISECONDS.toNanos(millis));
    }

    @Test
    void aBurstThenOneRequestPerIntervalAndTheWaitUntilTheNext() throws Exception {
        TokenBuckets buckets = new TokenBuckets(2, 3, now::get);
        InetAddress client = ip("10.0.0.1");
        for (int i = 0; i < 3; i++) {
            assertEquals(0, buckets.take(client), "request " + i + " of the burst");
        }
        assertEquals(TimeUnit.MILLISECONDS.toNanos(500), buckets.take(client), "a token every half second");
        advanceMillis(200);
        assertEquals(TimeUnit.MILLISECONDS.toNanos(300), buckets.take(client), "a refused request takes no token");
        advanceMillis(300);
        assertEquals(0, buckets.take(client));
        assertEquals(TimeUnit.MILLISECONDS.toNanos(500), buckets.take(client));
        assertEquals(0, buckets.take(ip("10.0.0.2")), "each address has its own bucket");
    }

    @Test
    void aBucketRefillsToTheBurstAndNoFurther() throws Exception {
        TokenBuckets buckets = new TokenBuckets(1, 3, now::get);
        InetAddress client = ip("10.0.0.1");
        for (int i = 0; i < 3; i++) {
            buckets.take(client);
        }
        advanceMillis(60_000);
        for (int i = 0; i < 3; i++) {
            assertEquals(0, buckets.take(client), "refilled request " + i);
        }
        assertEquals(TimeUnit.SECONDS.toNanos(1), buckets.take(client), "a minute of rest saves no more than the burst");
    }

    @Test
    void anAddressIsForgottenOnceItsBucketIsFullAgain() throws Exception {
        TokenBuckets buckets = new TokenBuckets(10, 5, now::get);
        for (int i = 0; i < 100; i++) {
            buckets.take(ip("10.0.1." + i));
        }
        assertEquals(100, buckets.addresses());
        advanceMillis(499);
        assertEquals(100, buckets.addresses(), "not before its bucket is full: 5 tokens at 10 a second take 500 ms");
        advanceMillis(1);
        assertEquals(0, buckets.addresses());
    }

    @Test
    void aSlowRateGivesAWaitOfManySeconds() throws Exception {
        TokenBuckets buckets = new TokenBuckets(0.1, 1, now::get);
        InetAddress client = ip("10.0.0.1");
        assertEquals(0, buckets.take(client));
        assertEquals(TimeUnit.SECONDS.toNanos(10), buckets.take(client));
    }
}
