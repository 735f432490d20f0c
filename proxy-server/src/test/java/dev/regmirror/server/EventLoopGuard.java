package dev.regmirror.server;

import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import reactor.blockhound.BlockHound;

/**
 * Records every blocking call (file I/O, sleeping, waiting on a lock) made on a Netty event loop,
 * using BlockHound and the integration Netty ships for it. Installed once per test JVM. Logging
 * is allowed (the shipped configuration logs through an asynchronous appender), and so is the
 * zero-copy send of a cached blob.
 */
final class EventLoopGuard {

    private static final List<String> VIOLATIONS = new CopyOnWriteArrayList<>();
    private static boolean installed;

    private EventLoopGuard() {
    }

    static synchronized void install() {
        if (installed) {
            return;
        }
        // install(...) also loads the integrations on the class path, Netty's among them, which
        // mark event-loop threads as non-blocking; BlockHound.builder() alone would load none.
        BlockHound.install(builder -> builder
                // BlockHound's own list misses NIO file I/O on JDK 17: mark the native calls that
                // FileChannel and Files end in (descriptors from javap).
                .markAsBlocking("sun.nio.ch.FileDispatcherImpl", "read0", "(Ljava/io/FileDescriptor;JI)I")
                .markAsBlocking("sun.nio.ch.FileDispatcherImpl", "pread0", "(Ljava/io/FileDescriptor;JIJ)I")
                .markAsBlocking("sun.nio.ch.FileDispatcherImpl", "write0", "(Ljava/io/FileDescriptor;JI)I")
                .markAsBlocking("sun.nio.ch.FileDispatcherImpl", "pwrite0", "(Ljava/io/FileDescriptor;JIJ)I")
                .markAsBlocking("sun.nio.ch.FileDispatcherImpl", "force0", "(Ljava/io/FileDescriptor;Z)I")
                .markAsBlocking("sun.nio.ch.FileDispatcherImpl", "size0", "(Ljava/io/FileDescriptor;)J")
                .markAsBlocking("sun.nio.fs.UnixNativeDispatcher", "open0", "(JII)I")
                .markAsBlocking("sun.nio.fs.UnixNativeDispatcher", "stat0", "(JLsun/nio/fs/UnixFileAttributes;)V")
                .markAsBlocking("sun.nio.fs.UnixNativeDispatcher", "rename0", "(JJ)V")
                .markAsBlocking("sun.nio.fs.UnixNativeDispatcher", "unlink0", "(J)V")
                .markAsBlocking("sun.nio.fs.UnixNativeDispatcher", "mkdir0", "(JI)V")
                // Zero-copy sends a cached blob from the event loop by design (sendfile, and the
                // fstat Netty's epoll transport makes before each sendfile of a region).
                .allowBlockingCallsInside("io.netty.channel.DefaultFileRegion", "transferTo")
                .allowBlockingCallsInside("io.netty.channel.DefaultFileRegion", "validate")
                .allowBlockingCallsInside("ch.qos.logback.core.OutputStreamAppender", "writeBytes")
                .allowBlockingCallsInside("ch.qos.logback.core.OutputStreamAppender", "subAppend")
                .blockingMethodCallback(method -> VIOLATIONS.add(method + " on " + Thread.currentThread().getName()
                        + "\n    at " + String.join("\n    at ", stack()))));
        installed = true;
    }

    /** The violations so far, forgetting them. */
    static List<String> drain() {
        List<String> seen = List.copyOf(VIOLATIONS);
        VIOLATIONS.clear();
        return seen;
    }

    private static List<String> stack() {
        return java.util.Arrays.stream(new Throwable().getStackTrace())
                .map(StackTraceElement::toString)
                .filter(frame -> !frame.startsWith("reactor.blockhound") && !frame.startsWith("dev.regmirror.server.EventLoopGuard"))
                .limit(25)
                .toList();
    }
}
