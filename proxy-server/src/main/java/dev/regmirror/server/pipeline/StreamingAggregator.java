package dev.regmirror.server.pipeline;

import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.HttpRequest;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * The request aggregator of every listener, which leaves the bodies of pushes alone: a
 * {@code POST}, {@code PATCH} or {@code PUT} under {@code /v2/} (or containerd's
 * {@code /<registry>/v2/}) passes on as its head followed by its {@code HttpContent}, so a layer of
 * any size streams to disk with back-pressure and a manifest is bounded by its handler, not here.
 * Everything else is aggregated up to a small limit: reads have no bodies.
 */
final class StreamingAggregator extends HttpObjectAggregator {

    private static final Set<HttpMethod> PUSHES = Set.of(HttpMethod.POST, HttpMethod.PATCH, HttpMethod.PUT);
    private static final Pattern API_PATH = Pattern.compile("(/[^/]+)?/v2/.*");

    StreamingAggregator(int maxContentLength) {
        super(maxContentLength);
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
