/**
 * Who may do what on the mirror: the accounts of an htpasswd file, the credentials a client
 * presents, and the access rules that decide, per image and action, before any upstream is
 * contacted. The token flow that carries these decisions in signed tokens is in
 * {@link dev.regmirror.core.auth.token}.
 */
package dev.regmirror.core.auth;
