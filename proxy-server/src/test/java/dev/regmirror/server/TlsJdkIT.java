package dev.regmirror.server;

/** The TLS listener checks on the JDK's own TLS provider, the fallback where BoringSSL cannot load. */
class TlsJdkIT extends TlsListenerChecks {

    @Override
    String provider() {
        return "jdk";
    }
}
