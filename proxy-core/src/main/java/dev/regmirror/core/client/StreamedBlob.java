package dev.regmirror.core.client;

import io.netty.buffer.ByteBuf;
import java.util.concurrent.Flow;

/** A blob body straight from the upstream's connection, watched for stalls and breaks. */
record StreamedBlob(long contentLength, Flow.Publisher<ByteBuf> publisher) implements BlobBody {
}
