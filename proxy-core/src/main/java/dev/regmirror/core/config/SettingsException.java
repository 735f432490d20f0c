package dev.regmirror.core.config;

/** The configuration is invalid: the message names the setting and what is wrong with it. */
public final class SettingsException extends RuntimeException {

    public SettingsException(String message) {
        super(message);
    }

    public SettingsException(String message, Throwable cause) {
        super(message, cause);
    }
}
