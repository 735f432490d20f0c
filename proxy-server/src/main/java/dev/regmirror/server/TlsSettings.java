package dev.regmirror.server;

import dev.regmirror.core.tls.SettingFile;

/** A listener's certificate chain and private key: PEM files, each with the setting that named it. */
public record TlsSettings(SettingFile certificate, SettingFile privateKey) {
}
