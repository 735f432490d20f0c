package dev.regmirror.core.client;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertSame;

import dev.regmirror.core.error.InvalidRequestException;
import dev.regmirror.core.error.ProxyException;
import dev.regmirror.core.error.RegistryErrorCode;
import dev.regmirror.core.error.UpstreamErrorException;
import dev.regmirror.core.upstream.EndpointSettings;
import java.io.EOFException;
import java.net.ConnectException;
import java.net.URI;
import java.net.http.HttpConnectTimeoutException;
import java.nio.channels.UnresolvedAddressException;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import org.junit.jupiter.api.Test;

/** What callers see for each kind of failure on the way to an upstream. */
class FailuresTest {

    private static final String ATTEMPT = "pull manifest latest of library/alpine from docker.io (https://registry-1.docker.io)";

    private final Failures failures = new Failures(EndpointSettings.anonymous("docker.io",
            URI.create("https://registry-1.docker.io"), Duration.ofSeconds(5), Duration.ofMillis(1500)));

    private String problem(Throwable failure) {
        ProxyException e = failures.map("pull manifest latest of library/alpine", failure);
        return e.getMessage().substring(ATTEMPT.length() + 2);
    }

    @Test
    void messagesSayWhatWentWrong() {
        ConnectException unresolved = new ConnectException();
        unresolved.initCause(new UnresolvedAddressException());
        assertEquals("unknown host", problem(unresolved));
        assertEquals("connection refused", problem(new ConnectException("Connection refused")));
        assertEquals("connect timed out after 5s", problem(new HttpConnectTimeoutException("HTTP connect timed out")));
        assertEquals("no response within 1.5s", problem(new java.net.http.HttpTimeoutException("request timed out")));
        assertEquals("connection broke off: EOF reached while reading", problem(new EOFException("EOF reached while reading")));
        assertEquals("unexpected IllegalStateException: bug", problem(new IllegalStateException("bug")));
    }

    @Test
    void proxyExceptionsPassThroughUnwrapped() {
        InvalidRequestException own = new InvalidRequestException(RegistryErrorCode.NAME_INVALID, "bad");

        assertSame(own, failures.map("x", new CompletionException(new CompletionException(own))));
    }

    @Test
    void bodyPastItsLimitIsAnUpstreamError() {
        UpstreamErrorException e = assertInstanceOf(UpstreamErrorException.class,
                failures.map("pull manifest latest of library/alpine", new BodyCollector.TooLarge(10)));

        assertEquals(RegistryErrorCode.UPSTREAM_ERROR, e.code());
        assertEquals(ATTEMPT + ": answer larger than 10 bytes", e.getMessage());
    }

    @Test
    void mappedFutureFailsWithTheExceptionItself() {
        CompletableFuture<String> failed = failures.mapping("x",
                () -> CompletableFuture.<String>failedFuture(new ConnectException()).thenApply(s -> s));
        CompletableFuture<String> thrown = failures.mapping("x", () -> {
            throw new IllegalArgumentException("unsupported URI");
        });

        assertInstanceOf(ProxyException.class, failed.handle((value, failure) -> failure).join());
        assertInstanceOf(ProxyException.class, thrown.handle((value, failure) -> failure).join());
    }
}
