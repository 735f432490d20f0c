package dev.regmirror.server.console;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.regmirror.core.error.InvalidRequestException;
import dev.regmirror.core.error.RegistryErrorCode;
import dev.regmirror.server.admin.AdminAuthHandler;
import dev.regmirror.server.http.ErrorResponder;
import dev.regmirror.server.http.Responses;
import dev.regmirror.server.pipeline.RequestTarget;
import dev.regmirror.server.pipeline.TlsChannels;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelHandler.Sharable;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.codec.http.DefaultHttpResponse;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.QueryStringDecoder;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The console's own paths on the admin listener, ahead of the token check: {@code /} (the console,
 * or a redirect to sign in), {@code /signin} (the form, and its POST: the admin token or an
 * administrator's name and password, checked as {@link AdminAuthHandler} checks API requests, then
 * a session cookie), {@code /signout}, {@code /console/session} (who is signed in and the CSRF
 * token), the style sheet and script under {@code /console/}, and an empty {@code /favicon.ico}.
 * Everything else goes on to the admin API, where the session cookie counts as credentials.
 */
@Sharable
public final class ConsoleHandler extends ChannelInboundHandlerAdapter {

    /** No script, style or frame from anywhere else; the pages cannot be framed or post elsewhere. */
    static final String CONTENT_SECURITY_POLICY = "default-src 'none'; script-src 'self'; style-src 'self';"
            + " img-src 'self' data:; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";
    private static final String ERROR_MARK = "<!--error-->";

    private final AdminAuthHandler auth;
    private final ConsoleSessions sessions;
    private final ObjectMapper mapper;
    private final ErrorResponder errors;
    private final ConsoleAssets assets;

    public ConsoleHandler(AdminAuthHandler auth, ConsoleSessions sessions, ObjectMapper mapper, ErrorResponder errors) {
        this.auth = auth;
        this.sessions = sessions;
        this.mapper = mapper;
        this.errors = errors;
        this.assets = ConsoleAssets.load();
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (!(msg instanceof FullHttpRequest request)) {
            ctx.fireChannelRead(msg);
            return;
        }
        String path = RequestTarget.rawPathOf(request.uri());
        boolean console = path.equals("/") || path.equals("/signin") || path.equals("/signout")
                || path.equals("/favicon.ico") || path.startsWith("/console/");
        if (!console) {
            ctx.fireChannelRead(msg);
            return;
        }
        try {
            route(ctx, request, path);
        } finally {
            request.release();
        }
    }

    private void route(ChannelHandlerContext ctx, FullHttpRequest request, String path) {
        HttpMethod method = request.method();
        boolean keepAlive = HttpUtil.isKeepAlive(request);
        boolean read = HttpMethod.GET.equals(method) || HttpMethod.HEAD.equals(method);
        Optional<ConsoleSessions.Session> session = sessions.fromCookies(request.headers().get(HttpHeaderNames.COOKIE));
        if (path.equals("/signin") && HttpMethod.POST.equals(method)) {
            signIn(ctx, request, keepAlive);
        } else if (path.equals("/signout") && HttpMethod.POST.equals(method)) {
            signOut(ctx, request, session, keepAlive);
        } else if (!read) {
            errors.send(ctx, method, keepAlive, new InvalidRequestException(RegistryErrorCode.UNSUPPORTED,
                    method.name() + " " + path + " is not supported"));
        } else if (path.equals("/favicon.ico")) {
            // Browsers ask for it on any page of the listener (an API error shown as a page too): nothing, not an error.
            page(ctx, request, HttpResponseStatus.NO_CONTENT, new ConsoleAssets.Asset(new byte[0], null), null);
        } else if (path.equals("/signin")) {
            page(ctx, request, HttpResponseStatus.OK, signinPage(""), null);
        } else if (path.equals("/")) {
            if (session.isEmpty()) {
                redirect(ctx, keepAlive, "/signin", null);
            } else {
                ConsoleAssets.Asset index = assets.get("index.html").orElseThrow();
                page(ctx, request, HttpResponseStatus.OK, index, null);
            }
        } else if (path.equals("/console/session")) {
            if (session.isEmpty()) {
                errors.send(ctx, method, keepAlive, new InvalidRequestException(RegistryErrorCode.UNAUTHORIZED,
                        "not signed in to the console"));
                return;
            }
            ObjectNode body = mapper.createObjectNode();
            body.put("user", session.get().user());
            body.put("csrf", session.get().csrf());
            page(ctx, request, HttpResponseStatus.OK, new ConsoleAssets.Asset(Responses.json(mapper, body),
                    "application/json; charset=utf-8"), null);
        } else {
            String name = path.substring("/console/".length());
            Optional<ConsoleAssets.Asset> asset = name.endsWith(".html") ? Optional.empty() : assets.get(name);
            if (asset.isEmpty()) {
                errors.send(ctx, method, keepAlive, new InvalidRequestException(RegistryErrorCode.NOT_FOUND,
                        "no such console file: " + path));
                return;
            }
            page(ctx, request, HttpResponseStatus.OK, asset.get(), null);
        }
    }

    /**
     * The form's token, or user name and password, checked as an API request's would be; a session
     * and a redirect to the console, or the form again with why (401, or 403 for an account that is
     * not an administrator or a post from another site).
     */
    private void signIn(ChannelHandlerContext ctx, FullHttpRequest request, boolean keepAlive) {
        String crossSite = AdminAuthHandler.crossSite(request);
        if (crossSite != null) {
            page(ctx, request, HttpResponseStatus.FORBIDDEN, signinPage(crossSite), null);
            return;
        }
        Map<String, List<String>> form = new QueryStringDecoder(request.content().toString(StandardCharsets.UTF_8),
                StandardCharsets.UTF_8, false).parameters();
        String user = first(form, "user");
        String password = first(form, "password");
        String token = first(form, "token");
        String header = !user.isEmpty() ? "Basic " + Base64.getEncoder().encodeToString(
                (user + ":" + password).getBytes(StandardCharsets.UTF_8))
                : !token.isEmpty() ? "Bearer " + token : null;
        boolean tls = TlsChannels.overTls(ctx.channel());
        HttpMethod method = request.method();
        auth.identify(ctx, request, header).whenComplete((identity, failure) -> {
            // Off the event loop when a password was checked: the session's random bytes are drawn here too.
            ConsoleSessions.Session session = identity instanceof AdminAuthHandler.Identity.Allowed allowed
                    ? sessions.open(allowed.user()) : null;
            ctx.executor().execute(() -> {
                if (session != null) {
                    redirect(ctx, keepAlive, "/", ConsoleSessions.COOKIE + "=" + session.id()
                            + "; Path=/; HttpOnly; SameSite=Strict" + (tls ? "; Secure" : ""));
                    return;
                }
                InvalidRequestException why = failure != null ? new InvalidRequestException(RegistryErrorCode.UNKNOWN,
                        "checking the credentials failed") : ((AdminAuthHandler.Identity.Refused) identity).why();
                page(ctx, method, keepAlive, HttpResponseStatus.valueOf(why.code().status()),
                        signinPage(why.getMessage()), null);
            });
        });
    }

    private void signOut(ChannelHandlerContext ctx, FullHttpRequest request, Optional<ConsoleSessions.Session> session,
                         boolean keepAlive) {
        if (session.isEmpty()) {
            errors.send(ctx, request.method(), keepAlive, new InvalidRequestException(RegistryErrorCode.UNAUTHORIZED,
                    "not signed in to the console"));
            return;
        }
        if (AdminAuthHandler.crossSite(request) != null
                || !session.get().csrfMatches(request.headers().get(ConsoleSessions.CSRF_HEADER))) {
            errors.send(ctx, request.method(), keepAlive, new InvalidRequestException(RegistryErrorCode.DENIED,
                    "the console's CSRF token is missing or wrong (" + ConsoleSessions.CSRF_HEADER + ")"));
            return;
        }
        sessions.close(session.get());
        HttpResponse headers = new DefaultHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.NO_CONTENT);
        headers.headers().set(HttpHeaderNames.SET_COOKIE, ConsoleSessions.COOKIE
                + "=; Path=/; Max-Age=0; HttpOnly; SameSite=Strict");
        page(ctx, request.method(), keepAlive, HttpResponseStatus.NO_CONTENT,
                new ConsoleAssets.Asset(new byte[0], null), headers);
    }

    private ConsoleAssets.Asset signinPage(String error) {
        ConsoleAssets.Asset form = assets.get("signin.html").orElseThrow();
        if (error.isEmpty()) {
            return form;
        }
        String html = new String(form.bytes(), StandardCharsets.UTF_8).replace(ERROR_MARK,
                "<p class=\"error\" role=\"alert\">" + escape(error) + "</p>");
        return new ConsoleAssets.Asset(html.getBytes(StandardCharsets.UTF_8), form.contentType());
    }

    private void redirect(ChannelHandlerContext ctx, boolean keepAlive, String location, String cookie) {
        HttpResponse headers = new DefaultHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.SEE_OTHER);
        headers.headers().set(HttpHeaderNames.LOCATION, location);
        if (cookie != null) {
            headers.headers().set(HttpHeaderNames.SET_COOKIE, cookie);
        }
        page(ctx, HttpMethod.GET, keepAlive, HttpResponseStatus.SEE_OTHER, new ConsoleAssets.Asset(new byte[0], null),
                headers);
    }

    private void page(ChannelHandlerContext ctx, FullHttpRequest request, HttpResponseStatus status,
                      ConsoleAssets.Asset asset, HttpResponse headers) {
        page(ctx, request.method(), HttpUtil.isKeepAlive(request), status, asset, headers);
    }

    private static void page(ChannelHandlerContext ctx, HttpMethod method, boolean keepAlive, HttpResponseStatus status,
                             ConsoleAssets.Asset asset, HttpResponse headers) {
        HttpResponse template = headers != null ? headers : new DefaultHttpResponse(HttpVersion.HTTP_1_1, status);
        template.headers().set("Content-Security-Policy", CONTENT_SECURITY_POLICY);
        template.headers().set("X-Content-Type-Options", "nosniff");
        template.headers().set("X-Frame-Options", "DENY");
        template.headers().set("Referrer-Policy", "same-origin");
        template.headers().set(HttpHeaderNames.CACHE_CONTROL, "no-store");
        Responses.sendFull(ctx, status, asset.contentType(), Unpooled.wrappedBuffer(asset.bytes()),
                HttpMethod.HEAD.equals(method), keepAlive, template);
    }

    private static String first(Map<String, List<String>> form, String name) {
        List<String> values = form.get(name);
        return values == null || values.isEmpty() ? "" : values.get(0);
    }

    /** HTML-escapes a message that may quote what the user typed (an account name). */
    static String escape(String text) {
        StringBuilder out = new StringBuilder(text.length());
        for (char c : text.toCharArray()) {
            switch (c) {
                case '<' -> out.append("&lt;");
                case '>' -> out.append("&gt;");
                case '&' -> out.append("&amp;");
                case '"' -> out.append("&quot;");
                case '\'' -> out.append("&#39;");
                default -> out.append(c);
            }
        }
        return out.toString();
    }
}
