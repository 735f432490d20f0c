package dev.regmirror.cli;

import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.time.Duration;
import java.util.Locale;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import picocli.CommandLine;

/**
 * How long a command waits on a server that has gone quiet: for the head of an answer, and for
 * the next bytes of its body (the JDK {@code HttpClient}'s request timeout ends with the head, so
 * a body that stops midway would otherwise be waited on forever). A body stream this guards fails
 * with a {@link StalledException} naming what it waited for.
 */
final class StallLimit implements AutoCloseable {

    /** The default: longer than the mirror's own upstream read timeout (60 s), so its 503 comes first. */
    static final Duration DEFAULT = Duration.ofMinutes(2);

    private final Duration limit;
    private final ScheduledThreadPoolExecutor alarms;

    StallLimit(Duration limit) {
        if (limit.isNegative() || limit.isZero()) {
            throw new IllegalArgumentException("a stall limit must be positive: " + limit);
        }
        this.limit = limit;
        this.alarms = new ScheduledThreadPoolExecutor(1, runnable -> {
            Thread thread = new Thread(runnable, "stall-limit");
            thread.setDaemon(true);
            return thread;
        });
        alarms.setRemoveOnCancelPolicy(true);
        alarms.setKeepAliveTime(1, TimeUnit.SECONDS);
        alarms.allowCoreThreadTimeOut(true);
    }

    Duration limit() {
        return limit;
    }

    /** The limit as a user writes it: {@code 2m}, {@code 90s}, {@code 500ms}. */
    String text() {
        return format(limit);
    }

    static String format(Duration duration) {
        long millis = duration.toMillis();
        if (millis % 60_000 == 0) {
            return millis / 60_000 + "m";
        }
        return millis % 1000 == 0 ? millis / 1000 + "s" : millis + "ms";
    }

    /**
     * The body, failing a read that gets no byte within the limit with a {@link StalledException}
     * whose message is {@code server} + " sent nothing for 2m while sending " + {@code what}.
     */
    InputStream guard(InputStream body, String server, String what) {
        return new GuardedStream(body, server + " sent nothing for " + text() + " while sending " + what);
    }

    @Override
    public void close() {
        alarms.shutdownNow();
    }

    /** A body that went quiet for longer than the limit. */
    static final class StalledException extends IOException {
        StalledException(String message) {
            super(message);
        }
    }

    /** Arms an alarm around each read; an alarm that goes off closes the body, which ends the read. */
    private final class GuardedStream extends FilterInputStream {
        private final String stalled;
        private volatile boolean expired;

        GuardedStream(InputStream in, String stalled) {
            super(in);
            this.stalled = stalled;
        }

        @Override
        public int read() throws IOException {
            byte[] one = new byte[1];
            int n = read(one, 0, 1);
            return n < 0 ? -1 : one[0] & 0xff;
        }

        @Override
        public int read(byte[] buffer, int offset, int length) throws IOException {
            if (expired) {
                throw new StalledException(stalled);
            }
            ScheduledFuture<?> alarm = alarms.schedule(this::expire, limit.toNanos(), TimeUnit.NANOSECONDS);
            try {
                return super.read(buffer, offset, length);
            } catch (IOException e) {
                if (expired) {
                    throw new StalledException(stalled);
                }
                throw e;
            } finally {
                alarm.cancel(false);
            }
        }

        @Override
        public long skip(long n) throws IOException {
            return read(new byte[(int) Math.min(n, 64 * 1024)]);
        }

        private void expire() {
            expired = true;
            try {
                in.close();
            } catch (IOException e) {
                // the read it ends reports the stall
            }
        }
    }

    /** Reads {@code --timeout} values: a number with {@code ms}, {@code s}, {@code m} or {@code h}. */
    static final class Converter implements CommandLine.ITypeConverter<Duration> {
        private static final Pattern FORM = Pattern.compile("(\\d{1,9})(ms|s|m|h)");

        @Override
        public Duration convert(String value) {
            Matcher matcher = FORM.matcher(value.trim().toLowerCase(Locale.ROOT));
            if (!matcher.matches() || Long.parseLong(matcher.group(1)) == 0) {
                throw new CommandLine.TypeConversionException("'" + value
                        + "' is not a duration above zero such as 30s, 2m or 1h");
            }
            long amount = Long.parseLong(matcher.group(1));
            return switch (matcher.group(2)) {
                case "ms" -> Duration.ofMillis(amount);
                case "s" -> Duration.ofSeconds(amount);
                case "m" -> Duration.ofMinutes(amount);
                default -> Duration.ofHours(amount);
            };
        }
    }
}
