package dev.regmirror.server.pipeline;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigException;
import dev.regmirror.core.config.SettingsException;
import java.time.Duration;

/**
 * What one client may ask of either listener, from {@code regmirror.server.limits}: the size of a
 * request head, how long it may take to arrive, open connections per address (0: no cap), and a
 * request rate per address (0 requests per second: no limit) with its burst.
 */
public record LimitSettings(int maxRequestLine, int maxHeaderSize, Duration headerTimeout, int connectionsPerClient,
                            double requestsPerSecond, int requestBurst) {

    /** The smallest head size accepted: a registry request line with a long name and a digest needs several hundred bytes. */
    private static final long MIN_HEAD_BYTES = 1024;
    /** The largest: each connection may buffer this much of a head before it is refused. */
    private static final long MAX_HEAD_BYTES = 1024 * 1024;

    /** The lowest rate that is not "no limit": one request per 100 seconds. */
    private static final double MIN_RATE = 0.01;
    private static final double MAX_RATE = 1_000_000;
    private static final int MAX_BURST = 1_000_000;

    /** Whether requests are limited at all. */
    public boolean rateLimited() {
        return requestsPerSecond > 0;
    }

    /** A duration as the messages write it: {@code 10s}, {@code 1500ms}. */
    static String describe(Duration duration) {
        long millis = duration.toMillis();
        return millis % 1000 == 0 ? millis / 1000 + "s" : millis + "ms";
    }

    /** Reads and validates the settings from a resolved configuration. */
    public static LimitSettings from(Config config) {
        try {
            String at = "regmirror.server.limits.";
            int line = headBytes(config, at + "max-request-line");
            int headers = headBytes(config, at + "max-header-size");
            Duration headerTimeout = config.getDuration(at + "header-timeout");
            if (headerTimeout.isNegative() || headerTimeout.isZero()) {
                throw new SettingsException(at + "header-timeout: must be positive, was " + headerTimeout);
            }
            int connections = config.getInt(at + "connections-per-client");
            if (connections < 0) {
                throw new SettingsException(at + "connections-per-client: must be 0 (no cap) or more, was " + connections);
            }
            double rate = config.getDouble(at + "requests-per-second");
            if (rate != 0 && !(rate >= MIN_RATE && rate <= MAX_RATE)) {
                throw new SettingsException(at + "requests-per-second: must be 0 (no limit) or 0.01 to 1000000, was "
                        + config.getString(at + "requests-per-second"));
            }
            int burst = config.getInt(at + "request-burst");
            if (burst < 1 || burst > MAX_BURST) {
                throw new SettingsException(at + "request-burst: must be 1 to 1000000, was " + burst);
            }
            return new LimitSettings(line, headers, headerTimeout, connections, rate, burst);
        } catch (ConfigException e) {
            throw new SettingsException("invalid configuration: " + e.getMessage(), e);
        }
    }

    private static int headBytes(Config config, String path) {
        long bytes = config.getBytes(path);
        if (bytes < MIN_HEAD_BYTES || bytes > MAX_HEAD_BYTES) {
            throw new SettingsException(path + ": must be 1K to 1M, was " + bytes + " bytes");
        }
        return (int) bytes;
    }
}
