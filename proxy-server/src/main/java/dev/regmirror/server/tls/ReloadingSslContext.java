package dev.regmirror.server.tls;

import dev.regmirror.core.tls.SettingFile;
import dev.regmirror.core.tls.TlsMaterial;
import dev.regmirror.core.tls.TlsMaterialException;
import dev.regmirror.core.tls.TlsMaterialLoader;
import io.netty.handler.codec.http2.Http2SecurityUtil;
import io.netty.handler.ssl.ApplicationProtocolConfig;
import io.netty.handler.ssl.ApplicationProtocolNames;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;
import io.netty.handler.ssl.SslProvider;
import io.netty.handler.ssl.SupportedCipherSuiteFilter;
import java.io.IOException;
import java.nio.file.Files;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Arrays;
import javax.net.ssl.SSLException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A listener's server-side SSL context (TLS 1.3 and 1.2, ALPN {@code h2} then {@code http/1.1}),
 * built from its certificate and key files and rebuilt when they change: new connections get the
 * new certificate, open ones finish on the one they started with. Files that fail to load at start
 * stop start-up; on a later change they are logged and the context in use is kept.
 */
public final class ReloadingSslContext {

    private static final Logger LOG = LoggerFactory.getLogger(ReloadingSslContext.class);
    static final String[] PROTOCOLS = {"TLSv1.3", "TLSv1.2"};

    private final String listener;
    private final SettingFile certificate;
    private final SettingFile privateKey;
    private final TlsMaterialLoader loader;
    private final SslProvider provider;
    private volatile SslContext current;
    private volatile String description;
    /** SHA-256 of the two files' bytes as last seen, loaded or not; checked on the timer thread only. */
    private byte[] seen;

    /**
     * Loads the files now.
     *
     * @throws TlsMaterialException one line naming the setting of the file at fault
     */
    public ReloadingSslContext(String listener, SettingFile certificate, SettingFile privateKey,
                               TlsMaterialLoader loader, SslProvider provider) throws TlsMaterialException {
        this.listener = listener;
        this.certificate = certificate;
        this.privateKey = privateKey;
        this.loader = loader;
        this.provider = provider;
        this.seen = fingerprint();
        TlsMaterial material = loader.load(certificate, privateKey);
        try {
            this.current = build(material);
        } catch (SSLException e) {
            throw new IllegalStateException(listener + " listener: " + certificate.file() + " and " + privateKey.file()
                    + " cannot serve TLS: " + e.getMessage(), e);
        }
        this.description = material.describeLeaf();
    }

    /** The context for the next connection. */
    public SslContext current() {
        return current;
    }

    /** The certificate in use, in one line for a log. */
    public String description() {
        return description;
    }

    /**
     * Reloads the files if their bytes changed since the last check; run it off the event loops.
     * A pair that fails to load (a half-written rotation, a key of another certificate) is logged
     * and the context in use kept; the next change is tried again.
     */
    public void reloadIfChanged() {
        byte[] now = fingerprint();
        if (Arrays.equals(now, seen)) {
            return;
        }
        seen = now;
        try {
            TlsMaterial material = loader.load(certificate, privateKey);
            current = build(material);
            description = material.describeLeaf();
            LOG.info("{} listener: new certificate for new connections: {}", listener, description);
        } catch (TlsMaterialException e) {
            LOG.error("{} listener: keeping the certificate in use ({}): {}", listener, description, e.getMessage());
        } catch (SSLException | RuntimeException e) {
            LOG.error("{} listener: keeping the certificate in use ({}): {} and {} cannot serve TLS: {}", listener,
                    description, certificate.file(), privateKey.file(), e.toString());
        }
    }

    private SslContext build(TlsMaterial material) throws SSLException {
        return SslContextBuilder.forServer(material.key(), material.chain())
                .sslProvider(provider)
                .protocols(PROTOCOLS)
                .ciphers(Http2SecurityUtil.CIPHERS, SupportedCipherSuiteFilter.INSTANCE)
                .applicationProtocolConfig(new ApplicationProtocolConfig(ApplicationProtocolConfig.Protocol.ALPN,
                        ApplicationProtocolConfig.SelectorFailureBehavior.NO_ADVERTISE,
                        ApplicationProtocolConfig.SelectedListenerFailureBehavior.ACCEPT,
                        ApplicationProtocolNames.HTTP_2, ApplicationProtocolNames.HTTP_1_1))
                .build();
    }

    /** A digest of both files' bytes; an unreadable file counts as empty, so it is noticed again when fixed. */
    private byte[] fingerprint() {
        try {
            MessageDigest digest = MessageDigest.getInstance("SHA-256");
            for (SettingFile file : new SettingFile[] {certificate, privateKey}) {
                try {
                    digest.update(Files.readAllBytes(file.file()));
                } catch (IOException unreadable) {
                    digest.update(new byte[] {0});
                }
            }
            return digest.digest();
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
