package dev.regmirror.server.pipeline;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelOutboundHandlerAdapter;
import io.netty.channel.embedded.EmbeddedChannel;
import java.io.ByteArrayOutputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.CountDownLatch;
import org.junit.jupiter.api.Test;

/** The access log's writer loses no line to a stalled output and says when connections must wait. */
class AccessLogTest {

    /** An output that takes nothing until opened. */
    private static final class StalledOutput extends OutputStream {
        final CountDownLatch open = new CountDownLatch(1);
        final ByteArrayOutputStream taken = new ByteArrayOutputStream();

        @Override
        public void write(int b) {
            write(new byte[] {(byte) b}, 0, 1);
        }

        @Override
        public synchronized void write(byte[] bytes, int offset, int length) {
            try {
                open.await();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            taken.write(bytes, offset, length);
        }
    }

    private static AccessLog.Line line(int i) {
        return new AccessLog.Line(0, "10.0.0." + i, "GET", "/v2/", 200, 2, 1, false);
    }

    @Test
    void pastTheHighWaterMarkConnectionsWaitAndNoLineIsDropped() {
        SimpleMeterRegistry meters = new SimpleMeterRegistry();
        StalledOutput output = new StalledOutput();
        AccessLog log = new AccessLog(output, 16, meters);
        for (int i = 0; i < 16; i++) {
            log.add(line(i));
        }
        assertFalse(log.congested(), "16 lines waiting is at the mark, not past it");
        for (int i = 16; i < 1000; i++) {
            log.add(line(i));
        }
        assertTrue(log.congested());
        assertEquals(1.0, meters.counter("regmirror.access.log.backpressure").count(), "engaged once, not per line");

        output.open.countDown();
        log.close();
        assertFalse(log.congested(), "caught up");
        String[] lines = output.taken.toString(StandardCharsets.UTF_8).split("\n");
        assertEquals(1000, lines.length);
        for (int i = 0; i < 1000; i++) {
            assertTrue(lines[i].endsWith(" INFO  regmirror.access - 10.0.0." + i + " \"GET /v2/\" 200 2 1ms"), lines[i]);
        }
        assertEquals(1000.0, meters.get("regmirror.access.log.lines").functionCounter().count());
    }

    /** Counts the reads that reach the socket. */
    private static final class Reads extends ChannelOutboundHandlerAdapter {
        int count;

        @Override
        public void read(ChannelHandlerContext ctx) {
            count++;
            ctx.read();
        }
    }

    @Test
    void aCongestedLogHoldsAConnectionsReadsUntilItCaughtUp() {
        StalledOutput output = new StalledOutput();
        AccessLog log = new AccessLog(output, 4, new SimpleMeterRegistry());
        Reads reads = new Reads();
        EmbeddedChannel channel = new EmbeddedChannel(reads, log.gate());
        channel.config().setAutoRead(false);
        reads.count = 0; // the read of the channel's registration
        channel.read();
        assertEquals(1, reads.count, "a read passes while the log keeps up");

        for (int i = 0; i < 10; i++) {
            log.add(line(i));
        }
        channel.read();
        channel.read();
        assertEquals(1, reads.count, "held back while lines wait");

        output.open.countDown();
        log.close(); // writes everything: the writer releases the held read on the channel's executor
        channel.runPendingTasks();
        assertEquals(2, reads.count, "the reads held back become one");
        channel.read();
        assertEquals(3, reads.count);
        assertFalse(channel.finishAndReleaseAll());
    }
}
