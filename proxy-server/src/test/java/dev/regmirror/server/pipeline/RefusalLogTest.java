package dev.regmirror.server.pipeline;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.netty.channel.embedded.EmbeddedChannel;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.slf4j.LoggerFactory;

/** A flood of refusals makes one WARN line per kind, address and minute, and every refusal is counted. */
class RefusalLogTest {

    private final Logger logger = (Logger) LoggerFactory.getLogger(RefusalLog.class);
    private final ListAppender<ILoggingEvent> lines = new ListAppender<>();
    private final AtomicLong now = new AtomicLong();
    private final SimpleMeterRegistry meters = new SimpleMeterRegistry();
    private final RefusalLog log = new RefusalLog("registry", now::get, meters);

    @BeforeEach
    void capture() {
        lines.start();
        logger.addAppender(lines);
    }

    @AfterEach
    void release() {
        logger.detachAppender(lines);
    }

    private List<String> messages() {
        return lines.list.stream().map(ILoggingEvent::getFormattedMessage).toList();
    }

    @Test
    void oneLinePerKindAndAddressAndMinute() {
        EmbeddedChannel a = ClientChannel.from("10.0.0.1");
        EmbeddedChannel b = ClientChannel.from("10.0.0.2");
        for (int i = 0; i < 1000; i++) {
            log.refused(RefusalLog.Kind.RATE, a, "answered 429: over {} requests per second", 5);
        }
        log.refused(RefusalLog.Kind.CONNECTIONS, a, "closing new connections");
        log.refused(RefusalLog.Kind.RATE, b, "answered 429: over {} requests per second", 5);
        assertEquals(List.of(
                "client 10.0.0.1 of the registry listener: answered 429: over 5 requests per second; such lines are"
                        + " logged at most once a minute per address",
                "client 10.0.0.1 of the registry listener: closing new connections; such lines are logged at most once a"
                        + " minute per address",
                "client 10.0.0.2 of the registry listener: answered 429: over 5 requests per second; such lines are"
                        + " logged at most once a minute per address"), messages());

        now.addAndGet(TimeUnit.SECONDS.toNanos(59));
        log.refused(RefusalLog.Kind.RATE, a, "answered 429: over {} requests per second", 5);
        assertEquals(3, messages().size());
        now.addAndGet(TimeUnit.SECONDS.toNanos(1));
        log.refused(RefusalLog.Kind.RATE, a, "answered 429: over {} requests per second", 5);
        assertEquals(4, messages().size(), "a minute later, once more");

        assertEquals(1003, meters.get("regmirror.client.refusals").tag("listener", "registry").tag("kind", "rate")
                .counter().count());
        assertEquals(1, meters.get("regmirror.client.refusals").tag("kind", "connections").counter().count());
        assertFalse(a.finishAndReleaseAll());
        assertFalse(b.finishAndReleaseAll());
    }
}
