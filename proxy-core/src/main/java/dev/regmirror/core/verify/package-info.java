/**
 * Verify: re-hashes every cached blob at a bounded rate, moves the corrupt ones aside, and checks
 * that every cached manifest's blobs and children are there. Bit rot on disk is caught here, not
 * served; the admin API runs it as a job, one at a time.
 */
package dev.regmirror.core.verify;
