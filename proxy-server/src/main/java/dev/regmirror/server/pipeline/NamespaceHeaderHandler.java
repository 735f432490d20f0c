package dev.regmirror.server.pipeline;

import io.netty.channel.ChannelDuplexHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelPromise;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpStatusClass;
import java.util.ArrayDeque;
import java.util.Optional;
import java.util.Queue;
import java.util.function.Predicate;
import java.util.regex.Pattern;

/**
 * Echoes containerd's {@code ?ns=} on the registry API's answers as {@code OCI-Namespace: <ns>}, as the
 * <a href="https://github.com/opencontainers/distribution-spec/blob/main/spec.md#registry-proxying">distribution
 * spec's proxying section</a> asks of a registry that honoured the parameter: only when the value names a
 * registry this mirror serves (else the request is answered NAME_UNKNOWN and nothing is echoed). Answers go
 * out in request order, one per request, so each request's value waits in a queue for its answer. One
 * instance per connection (or HTTP/2 stream).
 */
public final class NamespaceHeaderHandler extends ChannelDuplexHandler {

    /** The response header. */
    public static final String OCI_NAMESPACE = "OCI-Namespace";

    private static final Pattern API_PATH = Pattern.compile("(/[^/]+)?/v2(/.*)?");
    /** A registry's host name and port, as the router knows them: nothing that could break a header. */
    private static final Pattern REGISTRY = Pattern.compile("[A-Za-z0-9.:\\[\\]-]{1,255}");

    private final Predicate<String> served;
    private final Queue<Optional<String>> pending = new ArrayDeque<>();

    /** @param served whether a {@code ns} value names a registry this mirror routes to */
    public NamespaceHeaderHandler(Predicate<String> served) {
        this.served = served;
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) throws Exception {
        if (msg instanceof HttpRequest request) {
            pending.add(namespaceOf(request.uri()));
        }
        super.channelRead(ctx, msg);
    }

    @Override
    public void write(ChannelHandlerContext ctx, Object msg, ChannelPromise promise) throws Exception {
        if (msg instanceof HttpResponse response && !isInformational(response.status())) {
            Optional<String> namespace = pending.poll();
            if (namespace != null && namespace.isPresent()) {
                response.headers().set(OCI_NAMESPACE, namespace.get());
            }
        }
        super.write(ctx, msg, promise);
    }

    private Optional<String> namespaceOf(String uri) {
        if (uri.indexOf('?') < 0) {
            return Optional.empty(); // most requests have no query: no parse, no regular expression
        }
        RequestTarget target;
        try {
            target = RequestTarget.parse(uri);
        } catch (RuntimeException malformed) {
            return Optional.empty();
        }
        if (!API_PATH.matcher(target.rawPath()).matches()) {
            return Optional.empty();
        }
        return target.parameter("ns").filter(ns -> REGISTRY.matcher(ns).matches() && served.test(ns));
    }

    private static boolean isInformational(HttpResponseStatus status) {
        return status.codeClass() == HttpStatusClass.INFORMATIONAL;
    }
}
