package dev.regmirror.server.pipeline;

import dev.regmirror.core.error.InvalidRequestException;
import dev.regmirror.core.error.RegistryErrorCode;
import dev.regmirror.server.http.ErrorResponder;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandler.Sharable;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.TooLongHttpHeaderException;
import io.netty.handler.codec.http.TooLongHttpLineException;
import io.netty.util.ReferenceCountUtil;

/**
 * Answers a request whose head the HTTP codec gave up on for its size: a request line over
 * {@code max-request-line} is 414 URI_TOO_LONG, header fields over {@code max-header-size} are 431
 * HEADERS_TOO_LARGE; either closes the connection, since the codec reads nothing more from it. Any
 * other request passes on.
 */
@Sharable
public final class OversizedHeadHandler extends ChannelInboundHandlerAdapter {

    private final int maxRequestLine;
    private final int maxHeaderSize;
    private final ErrorResponder errors;
    private final RefusalLog refusals;

    public OversizedHeadHandler(int maxRequestLine, int maxHeaderSize, ErrorResponder errors, RefusalLog refusals) {
        this.maxRequestLine = maxRequestLine;
        this.maxHeaderSize = maxHeaderSize;
        this.errors = errors;
        this.refusals = refusals;
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (!(msg instanceof HttpRequest request) || request.decoderResult().isSuccess()) {
            ctx.fireChannelRead(msg);
            return;
        }
        Throwable cause = request.decoderResult().cause();
        InvalidRequestException refusal;
        if (cause instanceof TooLongHttpLineException) {
            refusals.refused(RefusalLog.Kind.REQUEST_LINE, ctx.channel(),
                    "answered 414: a request line over {} bytes (regmirror.server.limits.max-request-line)", maxRequestLine);
            refusal = new InvalidRequestException(RegistryErrorCode.URI_TOO_LONG,
                    "the request line is longer than " + maxRequestLine + " bytes");
        } else if (cause instanceof TooLongHttpHeaderException) {
            refusals.refused(RefusalLog.Kind.HEADERS, ctx.channel(),
                    "answered 431: header fields over {} bytes (regmirror.server.limits.max-header-size)", maxHeaderSize);
            refusal = new InvalidRequestException(RegistryErrorCode.HEADERS_TOO_LARGE,
                    "the request's header fields take more than " + maxHeaderSize + " bytes together");
        } else {
            ctx.fireChannelRead(msg);
            return;
        }
        ReferenceCountUtil.release(msg);
        errors.send(ctx, request.method(), false, refusal).addListener(ChannelFutureListener.CLOSE);
    }
}
