/**
 * What the admin API does to the cache, apart from HTTP: purges and prunes planned on a snapshot
 * and applied, archive imports, the image catalog and the usage report, each working through
 * {@link dev.regmirror.core.storage.CacheStorage}. The server's {@code admin} package decodes the
 * requests, runs these on its executors and writes their JSON.
 */
package dev.regmirror.core.admin;
