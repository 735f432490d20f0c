package dev.regmirror.core.storage.s3;

/** The object store failed or could not be reached; the message names the operation, the store and its answer. */
public final class S3StoreException extends RuntimeException {

    private static final long serialVersionUID = 1L;

    public S3StoreException(String message, Throwable cause) {
        super(message, cause);
    }
}
