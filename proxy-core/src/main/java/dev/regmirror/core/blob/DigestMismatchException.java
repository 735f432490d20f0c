package dev.regmirror.core.blob;

import java.io.IOException;

/** The bytes written to an ingest do not have the expected size or digest; nothing was committed. */
public final class DigestMismatchException extends IOException {

    public DigestMismatchException(String message) {
        super(message);
    }
}
