package dev.regmirror.core.client;

import java.nio.ByteBuffer;
import java.util.List;
import java.util.concurrent.Flow;

/** A blob body straight from the upstream's connection, watched for stalls and breaks. */
record StreamedBlob(long contentLength, Flow.Publisher<List<ByteBuffer>> publisher) implements BlobBody {
}
