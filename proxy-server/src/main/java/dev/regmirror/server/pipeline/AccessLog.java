package dev.regmirror.server.pipeline;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.netty.channel.ChannelHandler;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Writes the access log: every event loop hands its lines to a lock-free queue, and one thread of
 * its own formats them and writes them to the sink (standard output or a file) in batches, one
 * write per batch. No line is ever dropped and no event loop ever waits on the sink: when the
 * sink is slower than the requests and more than {@code highWater} lines wait, every connection
 * stops reading (its {@link ReadGate} holds back reads) until the writer is down to a quarter of
 * that. Metered as {@code regmirror.access.log.pending}, {@code .lines} and {@code .backpressure}.
 */
public final class AccessLog implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(AccessLog.class);
    /** Lines formatted into one write at most. */
    private static final int BATCH = 512;
    /** The old logback layout's fixed part, kept so that lines read as they always did. */
    private static final String LEVEL_AND_LOGGER = " INFO  regmirror.access - ";
    private static final DateTimeFormatter SECOND = DateTimeFormatter.ofPattern("yyyy-MM-dd'T'HH:mm:ss.");
    private static final DateTimeFormatter OFFSET = DateTimeFormatter.ofPattern("XXX");

    /** One finished exchange, as the event loop saw it; formatted on the writer's thread. */
    record Line(long epochMillis, String client, String method, String uri, int status, long sent, long millis,
                boolean aborted) {
    }

    private final OutputStream sink;
    private final int highWater;
    private final int lowWater;
    private final ConcurrentLinkedQueue<Line> queue = new ConcurrentLinkedQueue<>();
    /** Lines handed in and not yet written. */
    private final AtomicInteger pending = new AtomicInteger();
    private final AtomicLong accepted = new AtomicLong();
    private final AtomicLong written = new AtomicLong();
    private final AtomicBoolean congested = new AtomicBoolean();
    private final Set<ReadGate> held = ConcurrentHashMap.newKeySet();
    private final Counter backpressure;
    private final Thread writer;
    private volatile boolean closing;
    private boolean failing;
    /** The second of the last line formatted, its text up to the milliseconds, and its zone offset. */
    private long second = Long.MIN_VALUE;
    private String secondText;
    private String offsetText;

    /**
     * @param sink      where lines go, or null for no access log; closed with this unless it is {@code System.out}
     * @param highWater lines waiting past which connections stop reading
     */
    public AccessLog(OutputStream sink, int highWater, MeterRegistry meters) {
        if (highWater < 4) {
            throw new IllegalArgumentException("high water mark below 4 lines: " + highWater);
        }
        this.sink = sink;
        this.highWater = highWater;
        this.lowWater = highWater / 4;
        Gauge.builder("regmirror.access.log.pending", pending, AtomicInteger::get)
                .description("access-log lines waiting to be written").register(meters);
        FunctionCounter.builder("regmirror.access.log.lines", written, AtomicLong::get)
                .description("access-log lines written").register(meters);
        this.backpressure = Counter.builder("regmirror.access.log.backpressure")
                .description("times connections stopped reading until the access log caught up").register(meters);
        this.writer = new Thread(this::run, "regmirror-access-log");
        writer.setDaemon(true);
        if (sink != null) {
            writer.start();
        }
    }

    /** No access log: lines are not even made. */
    public static AccessLog off(MeterRegistry meters) {
        return new AccessLog(null, 4, meters);
    }

    /** Whether lines are written at all. */
    boolean enabled() {
        return sink != null;
    }

    /** Hands a line to the writer. Never waits; called on event loops. */
    void add(Line line) {
        int waiting = pending.incrementAndGet();
        queue.offer(line);
        accepted.incrementAndGet();
        if (waiting == 1) {
            LockSupport.unpark(writer);
        }
        if (waiting > highWater && congested.compareAndSet(false, true)) {
            backpressure.increment();
        }
    }

    /** A new connection's gate, which holds back its reads while the log is congested. */
    ChannelHandler gate() {
        return new ReadGate(this);
    }

    /** Whether connections should stop reading. */
    boolean congested() {
        return congested.get();
    }

    /** Lines handed in so far (written or not). */
    long accepted() {
        return accepted.get();
    }

    /** Keeps a gate that held back a read until the writer catches up. */
    void hold(ReadGate gate) {
        held.add(gate);
        // The writer may have caught up between the gate's look and now: then nobody else releases it.
        if (!congested.get() && held.remove(gate)) {
            gate.release();
        }
    }

    private void run() {
        StringBuilder text = new StringBuilder(BATCH * 160);
        while (true) {
            int lines = 0;
            Line line;
            while (lines < BATCH && (line = queue.poll()) != null) {
                format(line, text);
                lines++;
            }
            if (lines > 0) {
                write(text);
                text.setLength(0);
                written.addAndGet(lines);
                pending.addAndGet(-lines);
            }
            if (congested.get() && pending.get() <= lowWater && congested.compareAndSet(true, false)) {
                for (ReadGate gate : held) {
                    if (held.remove(gate)) {
                        gate.release();
                    }
                }
            }
            if (lines == 0) {
                if (pending.get() > 0) {
                    Thread.onSpinWait(); // a line counted, about to be queued
                } else if (closing) {
                    return;
                } else {
                    LockSupport.parkNanos(this, TimeUnit.SECONDS.toNanos(1));
                }
            }
        }
    }

    private void write(StringBuilder text) {
        try {
            sink.write(text.toString().getBytes(StandardCharsets.UTF_8));
            if (queue.isEmpty()) {
                sink.flush();
            }
            if (failing) {
                failing = false;
                LOG.warn("the access log is written again");
            }
        } catch (IOException e) {
            if (!failing) {
                failing = true;
                LOG.error("cannot write the access log, its lines are lost until it can: {}", e.toString());
            }
        }
    }

    /** {@code <time> INFO  regmirror.access - <client> "<method> <uri>" <status> <bytes> <ms>ms[ aborted]}. */
    private void format(Line line, StringBuilder text) {
        long lineSecond = Math.floorDiv(line.epochMillis(), 1000);
        if (lineSecond != second) {
            ZonedDateTime time = Instant.ofEpochSecond(lineSecond).atZone(ZoneId.systemDefault());
            second = lineSecond;
            secondText = SECOND.format(time);
            offsetText = OFFSET.format(time);
        }
        int millis = (int) Math.floorMod(line.epochMillis(), 1000);
        text.append(secondText);
        if (millis < 100) {
            text.append('0');
        }
        if (millis < 10) {
            text.append('0');
        }
        text.append(millis).append(offsetText).append(LEVEL_AND_LOGGER)
                .append(line.client()).append(" \"").append(line.method()).append(' ').append(line.uri())
                .append("\" ");
        if (line.status() == 0) {
            text.append('-');
        } else {
            text.append(line.status());
        }
        text.append(' ').append(line.sent()).append(' ').append(line.millis()).append("ms");
        if (line.aborted()) {
            text.append(" aborted");
        }
        text.append('\n');
    }

    /** Writes every line handed in so far, then stops the writer. */
    @Override
    public void close() {
        if (sink == null) {
            return;
        }
        closing = true;
        LockSupport.unpark(writer);
        try {
            writer.join(TimeUnit.SECONDS.toMillis(10));
            if (sink != System.out) {
                sink.close();
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (IOException e) {
            LOG.warn("closing the access log: {}", e.toString());
        }
    }
}
