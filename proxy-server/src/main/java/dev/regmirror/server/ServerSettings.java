package dev.regmirror.server;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigException;
import dev.regmirror.core.config.SettingsException;
import dev.regmirror.server.pipeline.LimitSettings;
import java.time.Duration;

/**
 * Settings of the HTTP listener and its threads, from {@code regmirror.server}, with the limits every
 * client of both listeners is held to.
 */
public record ServerSettings(String host, int port, Duration idleTimeout, int diskThreads, int eventLoopThreads,
                             LimitSettings limits) {

    /** Reads and validates the settings from a resolved configuration. */
    public static ServerSettings from(Config config) {
        try {
            String at = "regmirror.server.";
            int port = config.getInt(at + "port");
            if (port < 0 || port > 65535) {
                throw new SettingsException(at + "port: must be 0 to 65535, was " + port);
            }
            Duration idle = config.getDuration(at + "idle-timeout");
            if (idle.isNegative() || idle.isZero()) {
                throw new SettingsException(at + "idle-timeout: must be positive, was " + idle);
            }
            int diskThreads = config.getInt(at + "disk-threads");
            if (diskThreads < 1) {
                throw new SettingsException(at + "disk-threads: must be at least 1, was " + diskThreads);
            }
            int loops = config.getInt(at + "event-loop-threads");
            if (loops < 0) {
                throw new SettingsException(at + "event-loop-threads: must be 0 or more, was " + loops);
            }
            return new ServerSettings(config.getString(at + "host"), port, idle, diskThreads, loops,
                    LimitSettings.from(config));
        } catch (ConfigException e) {
            throw new SettingsException("invalid configuration: " + e.getMessage(), e);
        }
    }
}
