package dev.regmirror.core.net;

import java.net.InetAddress;
import java.util.List;

/**
 * The client addresses a listener serves: any, or those in one of its ranges. Loopback clients
 * are not let in implicitly; list {@code 127.0.0.0/8} and {@code ::1} to serve them.
 */
public record AllowedClients(List<AddressRange> ranges) {

    /** Every address. */
    public static final AllowedClients ANY = new AllowedClients(List.of());

    public AllowedClients {
        ranges = List.copyOf(ranges);
    }

    /** Parses a list of CIDR blocks; an empty list serves everyone. */
    public static AllowedClients parse(List<String> blocks) {
        return new AllowedClients(blocks.stream().map(AddressRange::parse).toList());
    }

    public boolean any() {
        return ranges.isEmpty();
    }

    public boolean allows(InetAddress address) {
        return ranges.isEmpty() || ranges.stream().anyMatch(range -> range.contains(address));
    }

    @Override
    public String toString() {
        return ranges.isEmpty() ? "any address" : ranges.toString();
    }
}
