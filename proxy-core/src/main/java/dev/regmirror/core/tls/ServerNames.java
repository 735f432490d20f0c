package dev.regmirror.core.tls;

import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.regex.Pattern;
import org.bouncycastle.util.IPAddress;

/**
 * The names clients use to reach a server, DNS names and IP addresses, which its certificate must
 * list as subject alternative names (clients ignore the subject's CN); at least one, no duplicates.
 */
public record ServerNames(List<String> dnsNames, List<InetAddress> addresses) {

    /** RFC 1123 labels (letters, digits, inner hyphens, up to 63), optionally behind a {@code *.} wildcard. */
    private static final Pattern DNS_NAME =
            Pattern.compile("(\\*\\.)?[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?(\\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*");

    public ServerNames {
        List<String> names = new ArrayList<>();
        for (String name : dnsNames) {
            String lower = name.toLowerCase(Locale.ROOT);
            if (IPAddress.isValid(lower)) {
                throw new IllegalArgumentException(name + " is an IP address, not a DNS name");
            }
            if (lower.length() > 253 || !DNS_NAME.matcher(lower).matches()) {
                throw new IllegalArgumentException("not a DNS name: \"" + name + "\"");
            }
            names.add(lower);
        }
        dnsNames = List.copyOf(new LinkedHashSet<>(names));
        addresses = List.copyOf(new LinkedHashSet<>(addresses));
        if (dnsNames.isEmpty() && addresses.isEmpty()) {
            throw new IllegalArgumentException("a server certificate needs at least one DNS name or IP address");
        }
    }

    /** Names as typed: DNS names, and IP addresses in their literal forms ({@code 10.0.0.5}, {@code ::1}). */
    public static ServerNames parse(List<String> dnsNames, List<String> addresses) {
        List<InetAddress> parsed = new ArrayList<>();
        for (String address : addresses) {
            parsed.add(address(address));
        }
        return new ServerNames(dnsNames, parsed);
    }

    /** An IP address literal; never a DNS lookup. */
    private static InetAddress address(String literal) {
        if (!IPAddress.isValid(literal)) {
            throw new IllegalArgumentException("not an IP address: \"" + literal + "\"");
        }
        try {
            return InetAddress.getByName(literal);
        } catch (UnknownHostException e) {
            throw new IllegalArgumentException("not an IP address: \"" + literal + "\"", e);
        }
    }

    /** The DNS names, then the addresses as text: what the certificate lists. */
    public List<String> all() {
        List<String> all = new ArrayList<>(dnsNames);
        addresses.forEach(address -> all.add(address.getHostAddress()));
        return all;
    }

    /** The first DNS name, else the first address: the certificate's CN, for people reading it. */
    public String first() {
        return all().get(0);
    }
}
