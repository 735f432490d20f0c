/**
 * Client addresses as access rules see them: address ranges (CIDR blocks) a listener serves. The
 * Netty handler that applies them lives in the server; the parsing and matching live here.
 */
package dev.regmirror.core.net;
