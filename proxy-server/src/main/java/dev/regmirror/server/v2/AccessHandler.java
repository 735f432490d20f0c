package dev.regmirror.server.v2;

import dev.regmirror.core.auth.AccessControl;
import dev.regmirror.core.auth.AccessDecision;
import dev.regmirror.core.auth.Account;
import dev.regmirror.core.auth.Action;
import dev.regmirror.core.auth.Authorization;
import dev.regmirror.core.auth.token.TokenCheck;
import dev.regmirror.core.auth.token.TokenService;
import dev.regmirror.core.error.InvalidRequestException;
import dev.regmirror.core.error.RegistryErrorCode;
import dev.regmirror.core.mirror.Futures;
import dev.regmirror.server.http.ErrorResponder;
import io.netty.channel.ChannelHandler.Sharable;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.SimpleChannelInboundHandler;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.Executor;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Who may use the registry API, decided before any handler (and so any upstream) sees a request:
 * an image's manifests, blobs and tags by the access rules for the caller (anonymous, Basic
 * credentials, or a token from {@code /token}); {@code /v2/} by whether the credentials sent are
 * good, so that {@code docker login} checks them; the catalog for administrators only. A caller
 * without (good) credentials gets 401 with a challenge that sends it to the token endpoint; one
 * the rules refuse gets 403 DENIED. Passwords and tokens are checked on the auth executor (bcrypt
 * and ECDSA are slow), never on the event loop. Present only when accounts or rules are configured.
 */
@Sharable
public final class AccessHandler extends SimpleChannelInboundHandler<V2Request> {

    private static final Logger LOG = LoggerFactory.getLogger(AccessHandler.class);

    private final AccessControl access;
    private final TokenService tokens;
    private final Set<String> admins;
    private final Executor authExecutor;
    private final ErrorResponder errors;

    public AccessHandler(AccessControl access, TokenService tokens, Set<String> admins, Executor authExecutor,
                         ErrorResponder errors) {
        super(false);
        this.access = access;
        this.tokens = tokens;
        this.admins = Set.copyOf(admins);
        this.authExecutor = authExecutor;
        this.errors = errors;
    }

    @Override
    protected void channelRead0(ChannelHandlerContext ctx, V2Request request) {
        if (request instanceof V2Request.Token) {
            ctx.fireChannelRead(request); // anyone may ask for a token; the endpoint checks credentials
            return;
        }
        Futures.supplyOn(authExecutor, () -> decide(ctx, request)).whenComplete((decision, failure) ->
                ctx.executor().execute(() -> {
                    if (failure != null) {
                        errors.send(ctx, request.method(), request.keepAlive(), failure);
                    } else if (decision instanceof AccessDecision.Allowed) {
                        ctx.fireChannelRead(request);
                    } else if (decision instanceof AccessDecision.NeedsAccount needs) {
                        LOG.debug("{} {}: sign-in needed: {}", ctx.channel().remoteAddress(), describe(request),
                                needs.message());
                        errors.send(ctx, request.method(), request.keepAlive(), new InvalidRequestException(
                                RegistryErrorCode.UNAUTHORIZED, "authentication required", null,
                                Map.of("WWW-Authenticate", challenge(ctx, request))));
                    } else {
                        AccessDecision.Denied denied = (AccessDecision.Denied) decision;
                        LOG.info("refused {} to {}: {}", describe(request), ctx.channel().remoteAddress(),
                                denied.message());
                        errors.send(ctx, request.method(), request.keepAlive(),
                                new InvalidRequestException(RegistryErrorCode.DENIED, denied.message()));
                    }
                }));
    }

    /** On the auth executor: the decision for this request and its credentials. */
    private AccessDecision decide(ChannelHandlerContext ctx, V2Request request) {
        if (request instanceof V2Request.OfImage image) {
            return access.decide(request.authorization(), image.route(), Action.PULL);
        }
        if (request instanceof V2Request.Catalog) {
            return admin(request.authorization());
        }
        return signedIn(request.authorization()); // /v2/
    }

    /** {@code /v2/}: a caller whose credentials are good; one without any is sent for a token. */
    private AccessDecision signedIn(Authorization authorization) {
        if (authorization instanceof Authorization.Bearer bearer) {
            return tokens.verify(bearer.token()) instanceof TokenCheck.Invalid invalid
                    ? new AccessDecision.NeedsAccount("invalid token: " + invalid.reason()) : AccessDecision.ALLOWED;
        }
        if (authorization instanceof Authorization.None) {
            // Sent to the token endpoint, anonymous clients included, as distribution does: a token
            // flow that then works for them, and a docker login that really checks the password.
            return new AccessDecision.NeedsAccount("no credentials");
        }
        return access.signIn(authorization) instanceof AccessControl.SignIn.Refused refused
                ? new AccessDecision.NeedsAccount(refused.reason()) : AccessDecision.ALLOWED;
    }

    /** The catalog lists every cached repository: administrators only. */
    private AccessDecision admin(Authorization authorization) {
        String subject;
        if (authorization instanceof Authorization.Bearer bearer) {
            TokenCheck check = tokens.verify(bearer.token());
            if (!(check instanceof TokenCheck.Valid valid)) {
                return new AccessDecision.NeedsAccount("invalid token");
            }
            subject = valid.subject();
        } else if (access.signIn(authorization) instanceof AccessControl.SignIn.SignedIn signedIn
                && signedIn.caller() instanceof Account account) {
            subject = account.name();
        } else {
            return new AccessDecision.NeedsAccount("the catalog needs an administrator's account");
        }
        return admins.contains(subject) ? AccessDecision.ALLOWED
                : new AccessDecision.Denied("the catalog is for administrators; " + subject + " is not one");
    }

    private String challenge(ChannelHandlerContext ctx, V2Request request) {
        java.net.URI realm = TokenRealm.of(ctx, request);
        if (request instanceof V2Request.OfImage image) {
            return tokens.challenge(realm, image.route(), Action.PULL);
        }
        return "Bearer realm=\"" + realm.toASCIIString() + "\",service=\"" + tokens.service() + "\"";
    }

    private static String describe(V2Request request) {
        return request instanceof V2Request.OfImage image ? request.getClass().getSimpleName().toLowerCase()
                + " of " + image.route() : request.getClass().getSimpleName().toLowerCase();
    }
}
