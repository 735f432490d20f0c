package dev.regmirror.core.testing;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.regmirror.core.reference.Digest;
import java.net.http.HttpClient;
import java.time.Duration;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * The fault proxy's own check, so that the fault tests' oracle is known to bite: straight through the
 * proxy, with nothing in between to catch them, clients do get complete 200 bodies with the wrong
 * bytes, cut-off bodies and injected statuses; with the faults off, every body is whole and right.
 */
class FaultProxyIT {

    private static final byte[] BLOB = new byte[200_000];

    static {
        new Random(7).nextBytes(BLOB);
    }

    @Test
    void everyFaultReachesAClientThatNothingProtects() throws Exception {
        Digest digest = Digest.sha256Of(BLOB);
        try (RawBlobUpstream upstream = RawBlobUpstream.truncating(BLOB, BLOB.length);
             FaultProxy faults = FaultProxy.start(upstream.uri(), 42, 1.0, 200)) {
            PullClient client = new PullClient(HttpClient.newHttpClient(), Duration.ofSeconds(10));
            for (int i = 0; i < 60; i++) {
                client.fetch(faults.uri().resolve("/v2/x/blobs/" + digest), digest);
            }
            Map<FaultProxy.Fault, Long> applied = faults.applied();
            assertFalse(client.wrongBodies().isEmpty(), "a flipped byte arrives as a complete wrong 200: "
                    + faults.summary() + "; " + client.summary());
            assertTrue(client.brokenBodies() + client.refused() > 0, client.summary());
            assertTrue(client.statuses().keySet().stream().anyMatch(status -> status >= 429), client.summary());
            for (FaultProxy.Fault fault : FaultProxy.Fault.values()) {
                assertTrue(fault == FaultProxy.Fault.NONE || applied.get(fault) > 0, fault + ": " + faults.summary());
            }

            faults.faultRate(0);
            PullClient clean = new PullClient(HttpClient.newHttpClient(), Duration.ofSeconds(10));
            for (int i = 0; i < 10; i++) {
                assertTrue(clean.fetch(faults.uri().resolve("/v2/x/blobs/" + digest), digest), clean.summary());
            }
        }
    }
}
