package dev.regmirror.core.mirror;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.io.IOException;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.slf4j.LoggerFactory;

/** What {@link StorageHealth} logs and counts for a failure to read the store and for one to write it. */
class StorageHealthTest {

    private final ListAppender<ILoggingEvent> logged = new ListAppender<>();
    private final Logger logger = (Logger) LoggerFactory.getLogger(StorageHealth.class);
    private final SimpleMeterRegistry meters = new SimpleMeterRegistry();
    private final Clock clock = Clock.fixed(Instant.parse("2026-01-01T00:00:00Z"), ZoneOffset.UTC);

    @BeforeEach
    void listen() {
        logged.start();
        logger.addAppender(logged);
    }

    @AfterEach
    void stopListening() {
        logger.detachAppender(logged);
    }

    private List<String> warnings() {
        return logged.list.stream().map(ILoggingEvent::getFormattedMessage).toList();
    }

    @Test
    void aFailedLookupIsLoggedAndCountedAsARead() {
        StorageHealth health = new StorageHealth(clock, Duration.ofSeconds(30), meters);
        health.failed(StorageFailure.read(new IOException("HEAD blobs/sha256/ab/ab12 at http://s3 bucket b: 503")));

        assertEquals(List.of("the cache cannot be read (cannot read the blob: HEAD blobs/sha256/ab/ab12 at "
                + "http://s3 bucket b: 503); streaming blobs through uncached for 30s, then trying again"), warnings());
        assertEquals(1.0, meters.counter("regmirror.cache.read.failures").count());
        assertEquals(0.0, meters.counter("regmirror.cache.write.failures").count());
        assertTrue(health.troubled());
    }

    @Test
    void aFailedWriteIsLoggedAndCountedAsAWriteOncePerCondition() {
        StorageHealth health = new StorageHealth(clock, Duration.ofSeconds(30), meters);
        health.failed(StorageFailure.write(new IOException("No space left on device"), null));
        health.failed(StorageFailure.write(new IOException("No space left on device"), null));

        assertEquals(List.of("the cache cannot store blobs (cannot store the blob: No space left on device);"
                + " streaming blobs through uncached for 30s, then trying again"), warnings());
        assertEquals(2.0, meters.counter("regmirror.cache.write.failures").count());
        assertEquals(0.0, meters.counter("regmirror.cache.read.failures").count());
    }
}
