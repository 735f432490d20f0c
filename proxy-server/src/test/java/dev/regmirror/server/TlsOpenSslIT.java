package dev.regmirror.server;

/** The TLS listener checks on BoringSSL (netty-tcnative), the provider regmirror picks where it loads. */
class TlsOpenSslIT extends TlsListenerChecks {

    @Override
    String provider() {
        return "openssl";
    }
}
