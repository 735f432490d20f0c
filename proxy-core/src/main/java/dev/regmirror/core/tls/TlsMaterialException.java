package dev.regmirror.core.tls;

import java.util.Objects;

/**
 * TLS files that cannot serve (missing, unreadable, without a certificate or a key, a key that is
 * not the certificate's, a certificate out of its validity), in one line that starts with the
 * setting that named the file.
 */
public final class TlsMaterialException extends Exception {

    private final String setting;

    TlsMaterialException(String setting, String message) {
        this(setting, message, null);
    }

    TlsMaterialException(String setting, String message, Throwable cause) {
        super(Objects.requireNonNull(message, "message"), cause);
        this.setting = Objects.requireNonNull(setting, "setting");
    }

    /** The setting to fix, such as {@code regmirror.server.tls.private-key}. */
    public String setting() {
        return setting;
    }
}
