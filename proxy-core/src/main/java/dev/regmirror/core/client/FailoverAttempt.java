package dev.regmirror.core.client;

import dev.regmirror.core.error.ProxyException;
import dev.regmirror.core.error.UpstreamErrorException;
import dev.regmirror.core.error.UpstreamUnavailableException;
import dev.regmirror.core.reference.RepositoryName;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.function.BiFunction;
import java.util.function.LongSupplier;

/**
 * One request of a {@link FailoverRegistryClient}: asks the endpoints one after another until one
 * gives the answer, and when none does, fails with what the last of them said, naming the upstream.
 */
final class FailoverAttempt<T> {

    private final String what;
    private final String registry;
    private final RepositoryName name;
    private final BiFunction<RegistryClient, RepositoryName, CompletableFuture<T>> call;
    private final List<FailoverEndpoint> order;
    private final int total;
    private final int skipped;
    private final LongSupplier nanoTime;
    private final List<Failed> failures = new ArrayList<>();
    private final CompletableFuture<T> result = new CompletableFuture<>();

    /** A failure that moved the request on, and whether it was a partial endpoint's "not here". */
    private record Failed(ProxyException failure, boolean notHere) {
    }

    /**
     * @param what     how messages name the request ("pull manifest latest of library/nginx")
     * @param order    the endpoints to ask, in order
     * @param total    how many endpoints the upstream has
     * @param skipped  how many of them are left out for their skip window
     */
    FailoverAttempt(String what, String registry, RepositoryName name,
                    BiFunction<RegistryClient, RepositoryName, CompletableFuture<T>> call,
                    List<FailoverEndpoint> order, int total, int skipped, LongSupplier nanoTime) {
        this.what = what;
        this.registry = registry;
        this.name = name;
        this.call = call;
        this.order = order;
        this.total = total;
        this.skipped = skipped;
        this.nanoTime = nanoTime;
    }

    CompletableFuture<T> start() {
        ask(0);
        return result;
    }

    private void ask(int index) {
        if (index == order.size()) {
            result.completeExceptionally(exhausted());
            return;
        }
        FailoverEndpoint endpoint = order.get(index);
        CompletableFuture<T> answer;
        try {
            answer = call.apply(endpoint.client(), endpoint.nameThere(name));
        } catch (RuntimeException e) {
            answer = CompletableFuture.failedFuture(e);
        }
        answer.whenComplete((value, thrown) -> {
            if (thrown == null) {
                endpoint.answered();
                result.complete(value);
                return;
            }
            Throwable failure = Failures.unwrap(thrown);
            switch (endpoint.judge(failure)) {
                case ANSWER -> {
                    endpoint.answered();
                    result.completeExceptionally(failure);
                }
                case NEXT -> {
                    endpoint.answered();
                    failures.add(new Failed((ProxyException) failure, endpoint.partial()
                            && ((UpstreamErrorException) failure).isNotFound()));
                    ask(index + 1);
                }
                case NEXT_AND_SKIP -> {
                    endpoint.failed(nanoTime.getAsLong(), failure);
                    failures.add(new Failed((ProxyException) failure, false));
                    ask(index + 1);
                }
            }
        });
    }

    /**
     * The last failure that was not a partial endpoint's "not here"; if there is none, the last "not
     * here" when no endpoint was skipped (nothing has it), else unavailable (a skipped one may).
     * With one endpoint, its failure unchanged; with more, one that says all of them failed.
     */
    private ProxyException exhausted() {
        Failed decisive = null;
        for (Failed failed : failures) {
            if (!failed.notHere() || decisive == null || decisive.notHere()) {
                decisive = failed;
            }
        }
        if (total == 1) {
            return decisive.failure();
        }
        String message = what + " from " + registry + ": all " + total + " endpoints failed"
                + (skipped == 0 ? "" : " (" + skipped + " skipped after a recent failure)")
                + "; last: " + decisive.failure().getMessage();
        if (decisive.notHere() && skipped > 0) {
            return new UpstreamUnavailableException(registry, message, null);
        }
        if (decisive.failure() instanceof UpstreamErrorException error) {
            return new UpstreamErrorException(error.code(), message, error.detail(), registry, error.upstreamStatus(),
                    error.headers());
        }
        return new UpstreamUnavailableException(registry, message, decisive.failure().getCause());
    }
}
