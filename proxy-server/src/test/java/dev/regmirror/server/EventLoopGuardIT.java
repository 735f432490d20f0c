package dev.regmirror.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.netty.channel.nio.NioEventLoopGroup;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The guard the server ITs rely on really sees disk work and sleeping on an event loop. */
class EventLoopGuardIT {

    @Test
    void detectsFileReadsAndSleepsOnAnEventLoopButNotElsewhere() throws Exception {
        EventLoopGuard.install();
        EventLoopGuard.drain();
        Path file = Files.createTempFile("guard", ".txt");
        NioEventLoopGroup group = new NioEventLoopGroup(1);
        try {
            Files.readAllBytes(file);
            assertEquals(List.of(), EventLoopGuard.drain(), "a test thread may block");

            group.submit(() -> Files.readAllBytes(file)).sync();
            List<String> reads = EventLoopGuard.drain();
            assertTrue(reads.stream().anyMatch(v -> v.contains("open0")), reads.toString());
            assertTrue(reads.stream().anyMatch(v -> v.contains("read0")), reads.toString());

            group.submit(() -> {
                Thread.sleep(1);
                return null;
            }).sync();
            assertTrue(EventLoopGuard.drain().stream().anyMatch(v -> v.contains("Thread.sleep")));
        } finally {
            group.shutdownGracefully().sync();
            Files.delete(file);
        }
    }
}
