package dev.regmirror.server.v2;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.regmirror.core.auth.AccessControl;
import dev.regmirror.core.auth.Authorization;
import dev.regmirror.core.auth.token.TokenGrant;
import dev.regmirror.core.auth.token.TokenRequest;
import dev.regmirror.core.auth.token.TokenService;
import dev.regmirror.core.error.InvalidRequestException;
import dev.regmirror.core.error.RegistryErrorCode;
import dev.regmirror.core.mirror.Futures;
import dev.regmirror.server.http.ErrorResponder;
import dev.regmirror.server.http.Responses;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelHandler.Sharable;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.handler.codec.http.DefaultHttpHeaders;
import io.netty.handler.codec.http.DefaultHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpVersion;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.Executor;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code GET /token} (and the OAuth2 {@code POST}): the token endpoint of the Docker token flow.
 * The caller signs in with Basic credentials (or asks anonymously), and gets a short-lived signed
 * token for what the access rules let it pull of the scopes it asked for. Wrong credentials are
 * 401, never an anonymous token. Signing runs on the auth executor. Without accounts or rules
 * there is no token endpoint: 404.
 */
@Sharable
public final class TokenHandler extends SimpleChannelInboundHandler<V2Request.Token> {

    private static final Logger LOG = LoggerFactory.getLogger(TokenHandler.class);

    private final Optional<AccessControl> access;
    private final Optional<TokenService> tokens;
    private final Executor authExecutor;
    private final ObjectMapper mapper;
    private final ErrorResponder errors;

    /** @param access and {@code tokens} empty when neither accounts nor rules are configured */
    public TokenHandler(Optional<AccessControl> access, Optional<TokenService> tokens, Executor authExecutor,
                        ObjectMapper mapper, ErrorResponder errors) {
        this.access = access;
        this.tokens = tokens;
        this.authExecutor = authExecutor;
        this.mapper = mapper;
        this.errors = errors;
    }

    @Override
    protected void channelRead0(ChannelHandlerContext ctx, V2Request.Token request) {
        if (tokens.isEmpty() || access.isEmpty()) {
            errors.send(ctx, request.method(), request.keepAlive(), new InvalidRequestException(
                    RegistryErrorCode.NOT_FOUND, "no such endpoint: this mirror has no accounts or rules, so no tokens"));
            return;
        }
        Futures.supplyOn(authExecutor, () -> issue(request)).whenComplete((body, failure) ->
                ctx.executor().execute(() -> {
                    if (failure != null) {
                        errors.send(ctx, request.method(), request.keepAlive(), failure);
                        return;
                    }
                    HttpResponse headers = new DefaultHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.OK,
                            new DefaultHttpHeaders().set(HttpHeaderNames.CACHE_CONTROL, "no-store"));
                    Responses.sendFull(ctx, HttpResponseStatus.OK, "application/json; charset=utf-8",
                            Unpooled.wrappedBuffer(body), HttpMethod.HEAD.equals(request.method()),
                            request.keepAlive(), headers);
                }));
    }

    /** On the auth executor: signs the caller in and issues its token, or fails with the answer to send. */
    private byte[] issue(V2Request.Token request) {
        TokenRequest.Parsed parsed = HttpMethod.POST.equals(request.method())
                ? TokenRequest.fromForm(request.parameters()) : TokenRequest.fromQuery(request.parameters());
        if (parsed instanceof TokenRequest.Parsed.Invalid invalid) {
            throw new InvalidRequestException(RegistryErrorCode.PARAMETER_INVALID, invalid.reason());
        }
        TokenRequest.Parsed.Ok ok = (TokenRequest.Parsed.Ok) parsed;
        Authorization credentials = ok.credentials().<Authorization>map(Authorization.Basic::new)
                .orElse(request.authorization());
        AccessControl.SignIn who = access.get().signIn(credentials);
        if (who instanceof AccessControl.SignIn.Refused refused) {
            // The reason (which account, wrong password or unknown user) is for the log, not the client.
            LOG.info("token refused: {}", refused.reason());
            throw new InvalidRequestException(RegistryErrorCode.UNAUTHORIZED, "sign-in failed", null,
                    Map.of("WWW-Authenticate", "Basic realm=\"" + tokens.get().service() + "\""));
        }
        TokenGrant grant = tokens.get().issue(((AccessControl.SignIn.SignedIn) who).caller(), ok.request(),
                request.origin().hostName());
        if (grant instanceof TokenGrant.Refused refused) {
            throw new InvalidRequestException(RegistryErrorCode.DENIED, refused.message());
        }
        return ((TokenGrant.Issued) grant).token().json(mapper);
    }
}
