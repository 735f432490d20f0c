package dev.regmirror.core.cluster;

import java.util.Objects;

/**
 * Where one node of a cluster answers other nodes: {@code host:port} of a listener of its registry
 * API (plain HTTP, or TLS with {@code cluster.tls}), which also names the node in ownership (so every
 * node must spell it the same way).
 */
public record NodeAddress(String host, int port) implements Comparable<NodeAddress> {

    public NodeAddress {
        Objects.requireNonNull(host, "host");
        if (host.isEmpty() || !host.chars().allMatch(ch -> ch > 0x20 && ch < 0x7f && ch != '/' && ch != '@')) {
            throw new IllegalArgumentException("not a host name or address: \"" + host + "\"");
        }
        if (port < 1 || port > 65535) {
            throw new IllegalArgumentException("port 1 to 65535, was " + port);
        }
    }

    /** Parses {@code host:port}, {@code [v6]:port} or {@code v6-literal} forms with a port after the last colon. */
    public static NodeAddress parse(String value) {
        int colon = value.lastIndexOf(':');
        if (colon <= 0 || colon == value.length() - 1) {
            throw new IllegalArgumentException("host:port expected, was \"" + value + "\"");
        }
        String host = value.substring(0, colon);
        if (host.startsWith("[") && host.endsWith("]")) {
            host = host.substring(1, host.length() - 1);
        }
        try {
            return new NodeAddress(host, Integer.parseInt(value.substring(colon + 1)));
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("host:port expected, was \"" + value + "\"", e);
        }
    }

    @Override
    public int compareTo(NodeAddress other) {
        return toString().compareTo(other.toString());
    }

    @Override
    public String toString() {
        return (host.indexOf(':') >= 0 ? "[" + host + "]" : host) + ":" + port;
    }
}
