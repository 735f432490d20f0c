/**
 * Who may do what on the mirror: the accounts of an htpasswd file, the credentials a request
 * presents, and the access rules that decide, per image and action, before any upstream is
 * contacted. {@link dev.regmirror.core.auth.AccessControl} is what the server asks per request; the
 * token flow that carries decisions in signed tokens is in {@link dev.regmirror.core.auth.token}.
 */
package dev.regmirror.core.auth;
