/**
 * TLS on the listeners: the server's certificate and key as an SSL context that follows its files,
 * so a rotated certificate serves new connections without a restart.
 */
package dev.regmirror.server.tls;
