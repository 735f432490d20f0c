package dev.regmirror.core.blob;

import dev.regmirror.core.reference.Digest;
import java.nio.file.Path;

/** A committed blob: its digest, its file and its size. */
public record StoredBlob(Digest digest, Path path, long size) {
}
