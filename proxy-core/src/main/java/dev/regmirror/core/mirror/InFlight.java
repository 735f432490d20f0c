package dev.regmirror.core.mirror;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;
import java.util.function.Supplier;

/**
 * Single-flight: concurrent requests for the same key share one piece of work, which is forgotten
 * as soon as it completes, so the next request after it starts afresh. One instance per kind of
 * work, owned by the service that uses it (no static state).
 */
public final class InFlight<K, V> {

    private final ConcurrentMap<K, CompletableFuture<V>> running = new ConcurrentHashMap<>();

    /** The running work for the key, or the work {@code start} begins if none runs. */
    public CompletableFuture<V> join(K key, Supplier<CompletableFuture<V>> start) {
        CompletableFuture<V> placeholder = new CompletableFuture<>();
        CompletableFuture<V> existing = running.putIfAbsent(key, placeholder);
        if (existing != null) {
            return existing;
        }
        try {
            start.get().whenComplete((value, failure) -> {
                running.remove(key, placeholder);
                if (failure != null) {
                    placeholder.completeExceptionally(failure);
                } else {
                    placeholder.complete(value);
                }
            });
        } catch (RuntimeException e) {
            running.remove(key, placeholder);
            placeholder.completeExceptionally(e);
        }
        return placeholder;
    }

    /** How many keys have work running (for tests and metrics). */
    public int size() {
        return running.size();
    }
}
