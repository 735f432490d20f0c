package dev.regmirror.server.admin;

import dev.regmirror.core.auth.Accounts;
import dev.regmirror.core.auth.Authorization;
import dev.regmirror.core.auth.Verification;
import dev.regmirror.core.error.InvalidRequestException;
import dev.regmirror.core.error.RegistryErrorCode;
import dev.regmirror.core.mirror.Futures;
import dev.regmirror.server.console.ConsoleSessions;
import dev.regmirror.server.http.ErrorResponder;
import io.netty.channel.ChannelHandler.Sharable;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.util.NetUtil;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Locale;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;

/**
 * Lets an admin request through with {@code Authorization: Bearer <token>} equal to the configured
 * token (compared in constant time), with Basic credentials of an account the settings make an
 * administrator (checked on the auth executor: bcrypt is slow), with the cookie of a console
 * session (and, unless it only reads, the session's CSRF token in {@value ConsoleSessions#CSRF_HEADER}),
 * or, when no token is configured, from a loopback address to a loopback name (the {@code Host} a
 * page re-pointed at 127.0.0.1 by DNS rebinding carries is its own name, not one of those); anything else is 401 UNAUTHORIZED
 * (403 DENIED for an account that is not an administrator, a missing or wrong CSRF token, or a
 * state-changing request a browser marks as sent from another site) and goes no further.
 */
@Sharable
public final class AdminAuthHandler extends ChannelInboundHandlerAdapter {

    private static final String BEARER = "Bearer ";
    /** Who passed with the admin token, or from loopback with none configured. */
    public static final String TOKEN_USER = "admin token";

    /** What checking a request's credentials found. */
    public sealed interface Identity {
        /** The credentials are an administrator's: {@code user} is the account, or {@link #TOKEN_USER}. */
        record Allowed(String user) implements Identity {
        }

        /** They are not; {@code why} is the error to answer with. */
        record Refused(InvalidRequestException why) implements Identity {
        }
    }

    private final Optional<byte[]> expected;
    private final Accounts accounts;
    private final Executor authExecutor;
    private final ErrorResponder errors;
    private final ConsoleSessions sessions;

    public AdminAuthHandler(Optional<String> token, Accounts accounts, Executor authExecutor, ErrorResponder errors,
                            ConsoleSessions sessions) {
        this.expected = token.map(AdminAuthHandler::sha256);
        this.accounts = accounts;
        this.authExecutor = authExecutor;
        this.errors = errors;
        this.sessions = sessions;
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (!(msg instanceof FullHttpRequest request)) {
            ctx.fireChannelRead(msg);
            return;
        }
        String crossSite = crossSite(request);
        if (crossSite != null) {
            refuse(ctx, request, new InvalidRequestException(RegistryErrorCode.DENIED, crossSite));
            return;
        }
        String header = request.headers().get(HttpHeaderNames.AUTHORIZATION);
        Optional<InvalidRequestException> session = sessionRefusal(request);
        if (session != null) {
            if (session.isPresent()) {
                refuse(ctx, request, session.get());
            } else {
                ctx.fireChannelRead(msg);
            }
            return;
        }
        identify(ctx, request, header).whenComplete((identity, failure) -> ctx.executor().execute(() -> {
            if (identity instanceof Identity.Allowed) {
                ctx.fireChannelRead(msg);
            } else {
                refuse(ctx, request, failure != null ? new InvalidRequestException(RegistryErrorCode.UNKNOWN,
                        "checking the credentials failed: " + failure) : ((Identity.Refused) identity).why());
            }
        }));
    }

    /**
     * What a request without an {@code Authorization} header that carries a console session's cookie
     * is: empty when it may pass, the refusal when it changes something without the session's CSRF
     * token; null when it carries no such header-less session (check its credentials instead).
     */
    private Optional<InvalidRequestException> sessionRefusal(HttpRequest request) {
        if (request.headers().get(HttpHeaderNames.AUTHORIZATION) != null) {
            return null;
        }
        Optional<ConsoleSessions.Session> session = sessions.fromCookies(request.headers().get(HttpHeaderNames.COOKIE));
        if (session.isEmpty()) {
            return null;
        }
        if (!readOnly(request) && !session.get().csrfMatches(request.headers().get(ConsoleSessions.CSRF_HEADER))) {
            return Optional.of(new InvalidRequestException(RegistryErrorCode.DENIED, "the console's CSRF token"
                    + " is missing or wrong (" + ConsoleSessions.CSRF_HEADER + "); reload the page"));
        }
        return Optional.empty();
    }

    /**
     * Why a request whose body a handler streams (and so never reaches {@link #channelRead} as a
     * whole) may not pass, or null if it may: sent from another site, a console session without its
     * CSRF token, or neither such a session nor the admin token (Basic credentials are not taken
     * here: checking them would hold the body back while bcrypt runs).
     */
    InvalidRequestException streamingRefusal(ChannelHandlerContext ctx, HttpRequest request) {
        String crossSite = crossSite(request);
        if (crossSite != null) {
            return new InvalidRequestException(RegistryErrorCode.DENIED, crossSite);
        }
        Optional<InvalidRequestException> session = sessionRefusal(request);
        if (session != null) {
            return session.orElse(null);
        }
        String refused = refusal(ctx, request, request.headers().get(HttpHeaderNames.AUTHORIZATION));
        return refused == null ? null : new InvalidRequestException(RegistryErrorCode.UNAUTHORIZED, refused);
    }

    /**
     * Checks the credentials of an {@code Authorization} header (null for none) as every admin
     * request's are, for {@code request} (whose {@code Host} matters when no token is configured);
     * completes on the auth executor for a password, at once otherwise.
     */
    public CompletableFuture<Identity> identify(ChannelHandlerContext ctx, HttpRequest request, String header) {
        if (accounts.size() > 0 && Authorization.parse(header) instanceof Authorization.Basic basic) {
            return Futures.supplyOn(authExecutor, () -> {
                Verification verification = accounts.verify(basic.credentials());
                if (verification instanceof Verification.Verified verified && verified.account().admin()) {
                    return new Identity.Allowed(verified.account().name());
                }
                return new Identity.Refused(verification instanceof Verification.Verified verified
                        ? new InvalidRequestException(RegistryErrorCode.DENIED, "account "
                        + verified.account().name() + " is not an administrator")
                        : new InvalidRequestException(RegistryErrorCode.UNAUTHORIZED, "wrong user name or password"));
            });
        }
        String refusal = refusal(ctx, request, header);
        return CompletableFuture.completedFuture(refusal == null ? new Identity.Allowed(TOKEN_USER)
                : new Identity.Refused(new InvalidRequestException(RegistryErrorCode.UNAUTHORIZED, refusal)));
    }

    /**
     * Why a browser's request is refused as sent from another site, or null: a request that changes
     * something which the browser marks {@code Sec-Fetch-Site} other than {@code same-origin} or
     * {@code none} (typed by the user), or, from a browser that sends no such header, whose
     * {@code Origin} is not this listener. Other clients send neither header.
     */
    public static String crossSite(HttpRequest request) {
        if (readOnly(request)) {
            return null;
        }
        String site = request.headers().get("Sec-Fetch-Site");
        if (site != null) {
            return site.equalsIgnoreCase("same-origin") || site.equalsIgnoreCase("none") ? null
                    : "a " + request.method() + " sent from another site (Sec-Fetch-Site: " + site + ") is refused";
        }
        String origin = request.headers().get(HttpHeaderNames.ORIGIN);
        if (origin == null) {
            return null;
        }
        String host = request.headers().get(HttpHeaderNames.HOST);
        int scheme = origin.indexOf("://");
        String originHost = scheme < 0 ? "" : origin.substring(scheme + 3);
        return host != null && originHost.equalsIgnoreCase(host) ? null
                : "a " + request.method() + " sent from another origin (" + origin + ") is refused";
    }

    /** GET and HEAD change nothing: they need no CSRF token. */
    static boolean readOnly(HttpRequest request) {
        return HttpMethod.GET.equals(request.method()) || HttpMethod.HEAD.equals(request.method());
    }

    private void refuse(ChannelHandlerContext ctx, FullHttpRequest request, InvalidRequestException why) {
        boolean keepAlive = HttpUtil.isKeepAlive(request);
        HttpMethod method = request.method();
        request.release();
        errors.send(ctx, method, keepAlive, why);
    }

    /** Why the request may not pass with {@code authorization}, or null if it may. */
    String refusal(ChannelHandlerContext ctx, HttpRequest request, String authorization) {
        if (expected.isEmpty()) {
            if (!(ctx.channel().remoteAddress() instanceof InetSocketAddress inet && inet.getAddress() != null
                    && inet.getAddress().isLoopbackAddress())) {
                return "the admin API without a token answers loopback clients only";
            }
            String host = request.headers().get(HttpHeaderNames.HOST);
            return host == null || loopbackName(host) ? null : "the admin API without a token answers requests to"
                    + " localhost or a loopback address only, not to " + host + " (a page on another name that"
                    + " resolves to this machine); use http://127.0.0.1:<port>, or set regmirror.admin.token";
        }
        if (authorization == null || !authorization.regionMatches(true, 0, BEARER, 0, BEARER.length())) {
            return accounts.size() > 0 ? "the admin API needs Authorization: Bearer <token>, or an administrator's"
                    + " user name and password" : "the admin API needs Authorization: Bearer <token>";
        }
        byte[] given = sha256(authorization.substring(BEARER.length()).trim());
        return MessageDigest.isEqual(given, expected.get()) ? null : "wrong admin token";
    }

    /**
     * Whether a {@code Host} value ({@code name[:port]}, {@code [v6][:port]}) names this machine's
     * loopback without asking DNS: {@code localhost} and names under {@code .localhost} (which
     * browsers resolve to the loopback themselves, RFC 6761), or a loopback address literal. A DNS
     * name that happens to resolve to 127.0.0.1 is not one: that is what a rebinding attack uses.
     */
    static boolean loopbackName(String host) {
        String name = host.trim();
        if (name.startsWith("[")) {
            int end = name.indexOf(']');
            name = end < 0 ? "" : name.substring(1, end);
        } else if (name.indexOf(':') == name.lastIndexOf(':') && name.indexOf(':') >= 0) {
            name = name.substring(0, name.indexOf(':'));
        }
        if (name.endsWith(".")) {
            name = name.substring(0, name.length() - 1);
        }
        String lower = name.toLowerCase(Locale.ROOT);
        if (lower.equals("localhost") || lower.endsWith(".localhost")) {
            return true;
        }
        InetAddress literal = NetUtil.createInetAddressFromIpAddressString(name);
        return literal != null && literal.isLoopbackAddress();
    }

    /** Hashed first so that the comparison takes the same time whatever the lengths. */
    private static byte[] sha256(String token) {
        try {
            return MessageDigest.getInstance("SHA-256").digest(token.getBytes(StandardCharsets.UTF_8));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is missing from this JVM", e);
        }
    }
}
