package dev.regmirror.core.tls;

import java.nio.file.Path;
import java.util.Objects;

/**
 * A file and the setting that named it ({@code regmirror.server.tls.certificate}), so that a
 * message about the file can say which setting to fix.
 */
public record SettingFile(String setting, Path file) {

    public SettingFile {
        Objects.requireNonNull(setting, "setting");
        Objects.requireNonNull(file, "file");
        if (setting.isBlank()) {
            throw new IllegalArgumentException("a setting name is required");
        }
    }

    /** {@code <setting>: <file> <problem>}, the one-line message of a problem with the file. */
    String problem(String problem) {
        return setting + ": " + file + " " + problem;
    }
}
