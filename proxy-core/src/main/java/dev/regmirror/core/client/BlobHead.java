package dev.regmirror.core.client;

/** What a blob HEAD told: its size in bytes, or -1 where the upstream did not say. */
public record BlobHead(long size) {
}
