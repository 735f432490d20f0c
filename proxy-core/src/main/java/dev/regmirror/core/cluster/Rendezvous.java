package dev.regmirror.core.cluster;

import dev.regmirror.core.reference.Digest;
import java.nio.charset.StandardCharsets;
import java.util.Collection;
import java.util.Comparator;
import java.util.List;

/**
 * Rendezvous (highest random weight) hashing: each node's weight for a key is a 64-bit mix of the
 * two, and the heaviest live node owns the key. Every node computes the same owner from the same
 * live set, and a node coming or going moves only the keys it gains or had.
 */
public final class Rendezvous {

    private Rendezvous() {
    }

    /** The owner of {@code digest} among {@code nodes} (not empty). */
    public static NodeAddress owner(Digest digest, Collection<NodeAddress> nodes) {
        return owner(digest.toString(), nodes);
    }

    /** The owner of any key (a tag's {@code <registry>/<name>:<tag>}) among {@code nodes} (not empty). */
    public static NodeAddress owner(String key, Collection<NodeAddress> nodes) {
        if (nodes.isEmpty()) {
            throw new IllegalArgumentException("no node to own " + key);
        }
        return ranked(key, nodes).get(0);
    }

    /** The nodes in the order they own {@code digest}: the owner first, then the one that takes over if it goes. */
    public static List<NodeAddress> ranked(Digest digest, Collection<NodeAddress> nodes) {
        return ranked(digest.toString(), nodes);
    }

    private static List<NodeAddress> ranked(String name, Collection<NodeAddress> nodes) {
        long key = fnv(name);
        // Heaviest first, weights compared unsigned; ties (practically never) to the smaller address.
        Comparator<NodeAddress> heaviest = (a, b) -> Long.compareUnsigned(weight(key, b), weight(key, a));
        return nodes.stream().sorted(heaviest.thenComparing(Comparator.naturalOrder())).toList();
    }

    private static long weight(long key, NodeAddress node) {
        return mix(key ^ mix(fnv(node.toString())));
    }

    /** FNV-1a, 64 bits, over the UTF-8 bytes: the same on every JVM. */
    private static long fnv(String value) {
        long hash = 0xcbf29ce484222325L;
        for (byte b : value.getBytes(StandardCharsets.UTF_8)) {
            hash ^= b & 0xff;
            hash *= 0x100000001b3L;
        }
        return hash;
    }

    /** SplitMix64's finalizer: every input bit affects every output bit. */
    private static long mix(long z) {
        z = (z ^ (z >>> 30)) * 0xbf58476d1ce4e5b9L;
        z = (z ^ (z >>> 27)) * 0x94d049bb133111ebL;
        return z ^ (z >>> 31);
    }
}
