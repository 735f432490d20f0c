/**
 * The web console on the admin listener: its pages and scripts (served from the jar, nothing from a
 * CDN), sign-in and the session cookie that lets the pages' scripts call the admin API with a CSRF
 * token. The console has no data of its own: everything it shows comes from the admin API's JSON.
 */
package dev.regmirror.server.console;
