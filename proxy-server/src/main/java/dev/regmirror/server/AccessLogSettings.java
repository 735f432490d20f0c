package dev.regmirror.server;

import com.typesafe.config.Config;
import dev.regmirror.core.config.SettingsException;
import java.nio.file.Path;
import java.util.Optional;

/**
 * Settings of the access log, from {@code regmirror.server.access-log}: where its lines go
 * ({@code stdout}, {@code off}, or a file they are appended to) and how many lines may wait for a
 * slow sink before connections stop reading.
 *
 * @param file          the file lines are appended to; empty for standard output
 * @param highWaterMark lines waiting past which connections stop reading until a quarter are left
 */
public record AccessLogSettings(boolean enabled, Optional<Path> file, int highWaterMark) {

    public AccessLogSettings {
        if (highWaterMark < 4) {
            throw new SettingsException("regmirror.server.access-log.high-water-mark: must be at least 4, was "
                    + highWaterMark);
        }
    }

    /** Reads and validates the settings. */
    static AccessLogSettings from(Config config, String at) {
        String output = config.getString(at + "output").trim();
        int highWater = config.getInt(at + "high-water-mark");
        return switch (output) {
            case "stdout" -> new AccessLogSettings(true, Optional.empty(), highWater);
            case "off" -> new AccessLogSettings(false, Optional.empty(), highWater);
            case "" -> throw new SettingsException(at + "output: stdout, off or a file's path; was empty");
            default -> new AccessLogSettings(true, Optional.of(Path.of(output)), highWater);
        };
    }
}
