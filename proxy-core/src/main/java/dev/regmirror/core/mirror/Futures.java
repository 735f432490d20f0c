package dev.regmirror.core.mirror;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executor;

/** Small helpers for CompletableFuture chains: run blocking work elsewhere, unwrap failures. */
public final class Futures {

    private Futures() {
    }

    /** Work that may throw a checked exception. */
    @FunctionalInterface
    public interface IoSupplier<T> {
        T get() throws Exception;
    }

    /** Runs blocking work on the executor; its exception fails the future unwrapped. */
    public static <T> CompletableFuture<T> supplyOn(Executor executor, IoSupplier<T> work) {
        CompletableFuture<T> future = new CompletableFuture<>();
        try {
            executor.execute(() -> {
                try {
                    future.complete(work.get());
                } catch (Throwable t) {
                    future.completeExceptionally(t);
                }
            });
        } catch (RuntimeException rejected) {
            future.completeExceptionally(rejected);
        }
        return future;
    }

    /** The real cause behind CompletionException and ExecutionException wrappers. */
    public static Throwable unwrap(Throwable t) {
        Throwable cause = t;
        while ((cause instanceof CompletionException || cause instanceof ExecutionException)
                && cause.getCause() != null) {
            cause = cause.getCause();
        }
        return cause;
    }
}
