package dev.regmirror.core.client;

import dev.regmirror.core.error.ProxyException;
import dev.regmirror.core.error.RegistryErrorCode;
import dev.regmirror.core.error.UpstreamErrorException;
import dev.regmirror.core.error.UpstreamUnavailableException;
import dev.regmirror.core.upstream.EndpointSettings;
import java.io.IOException;
import java.net.ConnectException;
import java.net.UnknownHostException;
import java.net.http.HttpConnectTimeoutException;
import java.net.http.HttpTimeoutException;
import java.nio.channels.UnresolvedAddressException;
import java.security.cert.CertPathBuilderException;
import java.security.cert.CertificateException;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;
import java.util.function.Supplier;
import javax.net.ssl.SSLException;

/**
 * Turns whatever went wrong on the way to an upstream into the {@link ProxyException} a caller
 * sees, with a message saying what was attempted and naming the upstream.
 */
final class Failures {

    private final EndpointSettings settings;

    Failures(EndpointSettings settings) {
        this.settings = settings;
    }

    /**
     * A ProxyException passes through, a body past its limit becomes UPSTREAM_ERROR, anything else
     * an UpstreamUnavailableException.
     */
    ProxyException map(String what, Throwable failure) {
        Throwable cause = unwrap(failure);
        if (cause instanceof ProxyException proxy) {
            return proxy;
        }
        if (cause instanceof BodyCollector.TooLarge tooLarge) {
            return protocol(what, "answer " + tooLarge.getMessage(), 200);
        }
        if (cause instanceof BodyCollector.TooSlow) {
            return unavailable(what, "answer not whole within " + seconds(settings.readTimeout())
                    + " (the read timeout)", cause);
        }
        return unavailable(what, problem(cause), cause);
    }

    /**
     * Runs {@code work}; its outcome, but failing with the mapped exception itself rather than a
     * CompletionException around whatever went wrong, and never throwing.
     */
    <T> CompletableFuture<T> mapping(String what, Supplier<CompletableFuture<T>> work) {
        CompletableFuture<T> future;
        try {
            future = work.get();
        } catch (RuntimeException e) {
            future = CompletableFuture.failedFuture(e);
        }
        CompletableFuture<T> out = new CompletableFuture<>();
        future.whenComplete((value, failure) -> {
            if (failure == null) {
                out.complete(value);
            } else {
                out.completeExceptionally(map(what, failure));
            }
        });
        return out;
    }

    UpstreamUnavailableException unavailable(String what, String problem, Throwable cause) {
        return new UpstreamUnavailableException(settings.registry(), attempt(what) + ": " + problem, cause);
    }

    /** The upstream answered, but with something that cannot be passed on (bad digest, too large). */
    UpstreamErrorException protocol(String what, String problem, int status) {
        return new UpstreamErrorException(RegistryErrorCode.UPSTREAM_ERROR, attempt(what) + ": " + problem, null,
                settings.registry(), status, Map.of());
    }

    /** "pull manifest latest of library/alpine from docker.io (https://registry-1.docker.io)". */
    String attempt(String what) {
        return what + " from " + settings.describe();
    }

    static Throwable unwrap(Throwable failure) {
        Throwable t = failure;
        while ((t instanceof CompletionException || t instanceof ExecutionException) && t.getCause() != null) {
            t = t.getCause();
        }
        return t;
    }

    private String problem(Throwable cause) {
        if (cause instanceof HttpConnectTimeoutException) {
            return "connect timed out after " + seconds(settings.connectTimeout());
        }
        if (cause instanceof HttpTimeoutException) {
            return "no response within " + seconds(settings.readTimeout());
        }
        if (has(cause, UnresolvedAddressException.class) || has(cause, UnknownHostException.class)) {
            return "unknown host";
        }
        if (has(cause, ConnectException.class)) {
            return "connection refused";
        }
        if (has(cause, CertPathBuilderException.class)) {
            return "TLS failed: the certificate is not trusted (no chain to a CA of the JVM or of the ca-file)";
        }
        if (has(cause, SSLException.class) && has(cause, CertificateException.class)) {
            return "TLS failed: the certificate was refused: " + deepest(cause, CertificateException.class).getMessage();
        }
        if (has(cause, SSLException.class)) {
            return "TLS failed: " + cause.getMessage();
        }
        if (cause instanceof IOException) {
            return "connection broke off: " + (cause.getMessage() == null ? cause.getClass().getSimpleName()
                    : cause.getMessage());
        }
        return "unexpected " + cause.getClass().getSimpleName() + ": " + cause.getMessage();
    }

    /** The innermost cause of {@code type}, which must be there. */
    private static Throwable deepest(Throwable failure, Class<? extends Throwable> type) {
        Throwable found = null;
        for (Throwable t = failure; t != null; t = t.getCause()) {
            if (type.isInstance(t)) {
                found = t;
            }
        }
        return found;
    }

    private static boolean has(Throwable failure, Class<? extends Throwable> type) {
        for (Throwable t = failure; t != null; t = t.getCause()) {
            if (type.isInstance(t)) {
                return true;
            }
        }
        return false;
    }

    /** "30s", or "0.5s" for durations under a second. */
    static String seconds(Duration duration) {
        long millis = duration.toMillis();
        return millis % 1000 == 0 ? millis / 1000 + "s" : millis / 1000.0 + "s";
    }
}
