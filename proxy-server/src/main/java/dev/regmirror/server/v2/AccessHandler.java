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
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.codec.http.HttpContent;
import io.netty.util.AttributeKey;
import java.util.List;
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
public final class AccessHandler extends ChannelInboundHandlerAdapter {

    /** The body of a push that arrived while its request was being decided, or that is being thrown away. */
    private static final AttributeKey<HeldBody> HELD = AttributeKey.valueOf(AccessHandler.class, "held");

    private static final Logger LOG = LoggerFactory.getLogger(AccessHandler.class);

    private final AccessControl access;
    private final TokenService tokens;
    private final Set<String> admins;
    private final Executor authExecutor;
    private final BlobHolders holders;
    private final ErrorResponder errors;

    public AccessHandler(AccessControl access, TokenService tokens, Set<String> admins, Executor authExecutor,
                         ErrorResponder errors) {
        this(access, tokens, admins, BlobHolders.NONE, authExecutor, errors);
    }

    /** @param holders where a mount that names no repository may find its blob */
    public AccessHandler(AccessControl access, TokenService tokens, Set<String> admins, BlobHolders holders,
                         Executor authExecutor, ErrorResponder errors) {
        this.holders = holders;
        this.access = access;
        this.tokens = tokens;
        this.admins = Set.copyOf(admins);
        this.authExecutor = authExecutor;
        this.errors = errors;
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        HeldBody held = ctx.channel().attr(HELD).get();
        if (msg instanceof HttpContent content && held != null) {
            held.take(content);
            return;
        }
        if (!(msg instanceof V2Request request)) {
            ctx.fireChannelRead(msg);
            return;
        }
        if (request instanceof V2Request.Token) {
            ctx.fireChannelRead(request); // anyone may ask for a token; the endpoint checks credentials
            return;
        }
        if (request instanceof V2Request.WithBody) {
            // Its body follows: held here (and no more read) until the decision.
            ctx.channel().attr(HELD).set(new HeldBody());
            ctx.channel().config().setAutoRead(false);
        }
        Futures.supplyOn(authExecutor, () -> decided(ctx, request)).whenComplete((decided, failure) ->
                ctx.executor().execute(() -> {
                    if (!ctx.channel().isActive()) {
                        // The client left while this was decided: nobody to answer, and a push's
                        // handler would start an upload that no end of the body ever finishes.
                        refuseBody(ctx, request);
                        return;
                    }
                    AccessDecision decision = decided == null ? null : decided.decision();
                    if (failure == null && decision instanceof AccessDecision.Allowed) {
                        admit(ctx, decided.request());
                        return;
                    }
                    refuseBody(ctx, request);
                    boolean keepAlive = request.keepAlive() && !(request instanceof V2Request.WithBody);
                    if (failure != null) {
                        errors.send(ctx, request.method(), keepAlive, failure);
                    } else if (decision instanceof AccessDecision.NeedsAccount needs) {
                        LOG.debug("{} {}: sign-in needed: {}", ctx.channel().remoteAddress(), describe(request),
                                needs.message());
                        errors.send(ctx, request.method(), keepAlive, new InvalidRequestException(
                                RegistryErrorCode.UNAUTHORIZED, "authentication required", null,
                                Map.of("WWW-Authenticate", challenge(ctx, request))));
                    } else {
                        AccessDecision.Denied denied = (AccessDecision.Denied) decision;
                        LOG.info("refused {} to {}: {}", describe(request), ctx.channel().remoteAddress(),
                                denied.message());
                        errors.send(ctx, request.method(), keepAlive,
                                new InvalidRequestException(RegistryErrorCode.DENIED, denied.message()));
                    }
                }));
    }

    /** Passes an allowed request on, and the part of its body that came meanwhile; reading resumes. */
    private static void admit(ChannelHandlerContext ctx, V2Request request) {
        HeldBody held = ctx.channel().attr(HELD).get();
        if (held == null) {
            ctx.fireChannelRead(request);
            return;
        }
        // Before the request is passed on, so that the handler taking its body may stop reading
        // again; still holding, because on an HTTP/2 stream turning reading on delivers the frames
        // buffered meanwhile at once, and they must not overtake their request.
        ctx.channel().config().setAutoRead(true);
        ctx.channel().attr(HELD).set(null);
        ctx.fireChannelRead(request);
        held.passOn(ctx);
        ctx.read();
    }

    /** A refused push: what came of its body is dropped, and so is the rest until the connection closes. */
    private static void refuseBody(ChannelHandlerContext ctx, V2Request request) {
        HeldBody held = ctx.channel().attr(HELD).get();
        if (held != null) {
            held.discard();
        }
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        HeldBody held = ctx.channel().attr(HELD).getAndSet(null);
        if (held != null) {
            held.discard();
        }
        ctx.fireChannelInactive();
    }

    /** The body of one push held while it is decided; once refused, everything that still comes is released. */
    private static final class HeldBody {

        private final java.util.ArrayDeque<HttpContent> contents = new java.util.ArrayDeque<>();
        private boolean discarding;

        void take(HttpContent content) {
            if (discarding) {
                content.release();
            } else {
                contents.add(content);
            }
        }

        void passOn(ChannelHandlerContext ctx) {
            HttpContent content;
            while ((content = contents.poll()) != null) {
                ctx.fireChannelRead(content);
            }
        }

        void discard() {
            discarding = true;
            HttpContent content;
            while ((content = contents.poll()) != null) {
                content.release();
            }
        }
    }

    /** A decision, and the request as it goes on when allowed. */
    private record Decided(AccessDecision decision, V2Request request) {
    }

    /**
     * On the auth executor: the decision, and for an allowed mount that names no repository to
     * mount from, the first hosted repository holding the blob that the caller may pull, so that a
     * digest alone never mounts what its pusher could not read.
     */
    private Decided decided(ChannelHandlerContext ctx, V2Request request) throws java.io.IOException {
        AccessDecision decision = decide(ctx, request);
        if (decision instanceof AccessDecision.Allowed && request instanceof V2Request.UploadStart start
                && start.mount().isPresent() && start.from().isEmpty()) {
            for (dev.regmirror.core.upstream.Route holder : holders.holding(start.mount().get())) {
                if (!holder.equals(start.route()) && access.decide(request.authorization(), holder, Action.PULL)
                        instanceof AccessDecision.Allowed) {
                    return new Decided(decision, start.from(holder));
                }
            }
        }
        return new Decided(decision, request);
    }

    /** Where a blob is held: the hosted repositories that link it. */
    @FunctionalInterface
    public interface BlobHolders {

        /** No repository holds anything: nothing hosted. */
        BlobHolders NONE = digest -> List.of();

        List<dev.regmirror.core.upstream.Route> holding(dev.regmirror.core.reference.Digest digest)
                throws java.io.IOException;
    }

    /** On the auth executor: the decision for this request and its credentials. */
    private AccessDecision decide(ChannelHandlerContext ctx, V2Request request) {
        if (request instanceof V2Request.OfImage image) {
            for (V2Request.Access need : image.access()) {
                AccessDecision decision = access.decide(request.authorization(), need.route(), need.action());
                if (!(decision instanceof AccessDecision.Allowed)) {
                    return decision;
                }
            }
            return AccessDecision.ALLOWED;
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
            Map<dev.regmirror.core.upstream.Route, Set<Action>> needs = new java.util.LinkedHashMap<>();
            for (V2Request.Access need : image.access()) {
                needs.computeIfAbsent(need.route(), route -> new java.util.TreeSet<>()).add(need.action());
            }
            // Docker asks for pull and push together when it pushes.
            needs.values().stream().filter(actions -> actions.contains(Action.PUSH)).forEach(actions -> actions.add(Action.PULL));
            return tokens.challenge(realm, needs);
        }
        return "Bearer realm=\"" + realm.toASCIIString() + "\",service=\"" + tokens.service() + "\"";
    }

    private static String describe(V2Request request) {
        return request instanceof V2Request.OfImage image ? request.getClass().getSimpleName().toLowerCase()
                + " of " + image.route() : request.getClass().getSimpleName().toLowerCase();
    }
}
