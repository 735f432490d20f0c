package dev.regmirror.core.testing;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.Test;

class TimedRequestTest {

    @Test
    void parsesDistributionsResponseCompletedLines() {
        TimedRequest blob = TimedRequest.parse("time=\"2026-12-02T20:04:10.652160488Z\" level=info msg=\"response"
                + " completed\" go.version=go1.19.8 http.request.host=\"127.0.0.1:5999\" http.request.id=f7e10d85"
                + " http.request.method=GET http.request.remoteaddr=\"127.0.0.1:47428\" http.request.uri=\"/v2/library/"
                + "app/blobs/sha256:" + "ab".repeat(32) + "\" http.request.useragent=\"regmirror/0.1.0\""
                + " http.response.contenttype=\"application/octet-stream\" http.response.duration=1.90451ms"
                + " http.response.status=200 http.response.written=2").orElseThrow();
        assertEquals(new TimedRequest("GET", "/v2/library/app/blobs/sha256:" + "ab".repeat(32), 200, "127.0.0.1:47428",
                "regmirror/0.1.0", Instant.parse("2026-12-02T20:04:10.652160488Z"), Duration.ofNanos(1_904_510)), blob);
        assertEquals(Instant.parse("2026-12-02T20:04:10.650255978Z"), blob.start());

        TimedRequest missing = TimedRequest.parse("time=\"2026-12-02T20:04:10.666367736Z\" level=error msg=\"response"
                + " completed with error\" err.code=\"blob unknown\" http.request.method=HEAD"
                + " http.request.remoteaddr=\"127.0.0.1:47432\" http.request.uri=\"/v2/foo/blobs/sha256:00\""
                + " http.request.useragent=curl/7.88.1 http.response.duration=1.374846ms http.response.status=404")
                .orElseThrow();
        assertEquals(List.of("HEAD", 404, "curl/7.88.1"), List.of(missing.method(), missing.status(), missing.userAgent()));
    }

    @Test
    void ignoresEverythingElseTheRegistryPrints() {
        assertTrue(TimedRequest.parse("time=\"2026-11-22T14:11:29Z\" level=info msg=\"listening on 127.0.0.1:1\"")
                .isEmpty());
        assertTrue(TimedRequest.parse("127.0.0.1 - - [02/Dec/2026:20:04:10 +0000] \"GET /v2/ HTTP/1.1\" 200 2 \"\" \"x\"")
                .isEmpty());
    }

    @Test
    void readsGoDurations() {
        assertEquals(Duration.ofNanos(850), TimedRequest.goDuration("850ns"));
        assertEquals(Duration.ofNanos(123_456), TimedRequest.goDuration("123.456µs"));
        assertEquals(Duration.ofMillis(1500), TimedRequest.goDuration("1.5s"));
        assertEquals(Duration.ofMillis(123_250), TimedRequest.goDuration("2m3.25s"));
        assertEquals(Duration.ofHours(1).plusMinutes(2), TimedRequest.goDuration("1h2m0s"));
        assertThrows(IllegalArgumentException.class, () -> TimedRequest.goDuration("5 parsecs"));
    }

    @Test
    void countsTheMostRequestsInFlightAtOneInstant() {
        Instant t = Instant.parse("2026-12-02T20:00:00Z");
        assertEquals(0, TimedRequest.maxInFlight(List.of()));
        assertEquals(2, TimedRequest.maxInFlight(List.of(
                request(t, 0, 10), request(t, 5, 15), request(t, 10, 20), request(t, 15, 25))),
                "one ending as another starts does not overlap it");
        assertEquals(3, TimedRequest.maxInFlight(List.of(
                request(t, 0, 100), request(t, 10, 20), request(t, 15, 30), request(t, 25, 40))));
    }

    private static TimedRequest request(Instant base, long startMillis, long endMillis) {
        return new TimedRequest("GET", "/v2/", 200, "127.0.0.1:1", "test", base.plusMillis(endMillis),
                Duration.ofMillis(endMillis - startMillis));
    }
}
