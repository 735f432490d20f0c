/**
 * TLS material for regmirror's own listener: the server's key and certificate chain read from the
 * PEM files its settings name, checked before anything listens, and a small local CA that makes
 * such files for a mirror without a certificate from elsewhere ({@code regmirror tls init}).
 * BouncyCastle parses and builds the ASN.1; keys and signatures go through the JDK's providers.
 */
package dev.regmirror.core.tls;
