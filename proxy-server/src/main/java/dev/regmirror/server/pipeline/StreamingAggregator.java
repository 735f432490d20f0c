package dev.regmirror.server.pipeline;

import dev.regmirror.core.error.InvalidRequestException;
import dev.regmirror.core.error.Printable;
import dev.regmirror.core.error.RegistryErrorCode;
import dev.regmirror.server.http.ErrorResponder;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelPipeline;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpMessage;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpStatusClass;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.util.ReferenceCountUtil;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * The request aggregator of every listener, which leaves the bodies of pushes alone: a
 * {@code POST}, {@code PATCH} or {@code PUT} under {@code /v2/} (or containerd's
 * {@code /<registry>/v2/}) passes on as its head followed by its {@code HttpContent}, so a layer of
 * any size streams to disk with back-pressure and a manifest is bounded by its handler, not here.
 * Everything else is aggregated up to a small limit: reads have no bodies. What Netty's aggregator
 * refuses itself (a body over the limit, 413, and an {@code Expect} other than {@code 100-continue},
 * 417) is answered as a registry error like any other; a body over the limit that was sent without
 * waiting for {@code 100 Continue} closes the connection.
 */
final class StreamingAggregator extends HttpObjectAggregator {

    private static final Set<HttpMethod> PUSHES = Set.of(HttpMethod.POST, HttpMethod.PATCH, HttpMethod.PUT);
    private static final Pattern API_PATH = Pattern.compile("(/[^/]+)?/v2/.*");

    private final ErrorResponder errors;
    /** Whether the body of a push is passing (its head passed, its last content not yet). */
    private boolean streamingBody;

    StreamingAggregator(int maxContentLength, ErrorResponder errors) {
        super(maxContentLength);
        this.errors = errors;
    }

    /**
     * The answer to an {@code Expect} header: Netty's 100 Continue, or its refusal as a registry error.
     * A head the codec could not read gets none: it passes on as it is, and its connection is closed
     * (Netty would parse its {@code Content-Length} again, and fail on one that is not a number, as
     * {@code V2RequestDecoderFuzzTest} found). Nor does a head read after its connection was closed (a
     * request pipelined behind one answered with {@code Connection: close}): nobody reads the answer,
     * and the failed write closes the pipeline while the head is being aggregated, which left the
     * aggregation's buffer behind (the fuzz test's tracking allocator found it).
     */
    @Override
    protected Object newContinueResponse(HttpMessage start, int maxContentLength, ChannelPipeline pipeline) {
        if (!start.decoderResult().isSuccess() || !pipeline.channel().isActive()) {
            return null;
        }
        String expect = start.headers().get(HttpHeaderNames.EXPECT);
        Object answer = super.newContinueResponse(start, maxContentLength, pipeline);
        if (!(answer instanceof HttpResponse response) || response.status().codeClass() != HttpStatusClass.CLIENT_ERROR) {
            return answer;
        }
        ReferenceCountUtil.release(answer);
        InvalidRequestException refusal = response.status().code() == 413 ? tooLarge()
                : new InvalidRequestException(RegistryErrorCode.EXPECTATION_FAILED, "Expect: " + Printable.of(expect)
                + " is not supported; only 100-continue is");
        // Kept open as Netty keeps it: the body, if the client sends it anyway, is read and dropped.
        return errors.response(methodOf(start), HttpUtil.isKeepAlive(start), refusal);
    }

    /** A body over the limit: answered as a registry error, and the connection closed (the rest is not read). */
    @Override
    protected void handleOversizedMessage(ChannelHandlerContext ctx, HttpMessage oversized) throws Exception {
        if (!(oversized instanceof HttpRequest)) {
            super.handleOversizedMessage(ctx, oversized);
            return;
        }
        errors.send(ctx, methodOf(oversized), false, tooLarge()).addListener(ChannelFutureListener.CLOSE);
    }

    private InvalidRequestException tooLarge() {
        return new InvalidRequestException(RegistryErrorCode.BODY_TOO_LARGE, "the request body is larger than "
                + maxContentLength() + " bytes, the most this request takes");
    }

    private static HttpMethod methodOf(HttpMessage message) {
        return message instanceof HttpRequest request ? request.method() : HttpMethod.GET;
    }

    /**
     * Drops what the codec still passes on once the connection is closed. An answer that closes the
     * connection while the codec hands on a request (a push answered with an error before its
     * body) makes the codec decode the rest of what it holds at once, from within that close: the
     * heads behind reach this handler before the last content of the request being answered, which
     * came out of the codec before them. Aggregated in that order, a head arrived while another
     * was being aggregated, and Netty's aggregator threw ({@code V2RequestDecoderFuzzTest} found it,
     * input {@code heads-decoded-from-within-a-close}). Nobody can be answered on a closed connection.
     */
    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) throws Exception {
        if (!ctx.channel().isActive()) {
            ReferenceCountUtil.release(msg);
            return;
        }
        super.channelRead(ctx, msg);
    }

    /**
     * Passes a push's head and its body on untouched. The body is tracked here rather than left to
     * Netty's state, which stays "aggregating" after a refused expectation (417) until the next head
     * it aggregates: the body of a push that came next was taken for the refused request's and
     * dropped, and the push waited for it for ever (found by {@code V2RequestDecoderFuzzTest}).
     */
    @Override
    public boolean acceptInboundMessage(Object msg) throws Exception {
        if (streams(msg)) {
            streamingBody = !(msg instanceof LastHttpContent);
            return false;
        }
        if (streamingBody && msg instanceof HttpContent) {
            streamingBody = !(msg instanceof LastHttpContent);
            return false;
        }
        return super.acceptInboundMessage(msg);
    }

    @Override
    protected boolean isStartMessage(io.netty.handler.codec.http.HttpObject msg) throws Exception {
        return super.isStartMessage(msg) && !streams(msg);
    }

    /** Whether a message is the head of a push, whose body is streamed rather than aggregated. */
    static boolean streams(Object msg) {
        return msg instanceof HttpRequest request && PUSHES.contains(request.method())
                && API_PATH.matcher(RequestTarget.rawPathOf(request.uri())).matches();
    }
}
