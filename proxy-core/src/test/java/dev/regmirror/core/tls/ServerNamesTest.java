package dev.regmirror.core.tls;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.List;
import org.junit.jupiter.api.Test;

/** Which names a server certificate can be made for. */
class ServerNamesTest {

    @Test
    void takesDnsNamesLowerCasedAndAddressLiteralsOnce() {
        ServerNames names = ServerNames.parse(List.of("Mirror.LAN", "localhost", "*.apps.lan", "mirror.lan", "a-1.b2"),
                List.of("10.0.0.5", "::1", "10.0.0.5"));
        assertEquals(List.of("mirror.lan", "localhost", "*.apps.lan", "a-1.b2"), names.dnsNames());
        assertEquals(List.of("mirror.lan", "localhost", "*.apps.lan", "a-1.b2", "10.0.0.5", "0:0:0:0:0:0:0:1"), names.all());
        assertEquals("mirror.lan", names.first());
        assertEquals("10.0.0.5", ServerNames.parse(List.of(), List.of("10.0.0.5")).first());
    }

    @Test
    void refusesWhatIsNotADnsName() {
        String longLabel = "a".repeat(64);
        for (String bad : List.of("", "-mirror.lan", "mirror-.lan", "mirror..lan", "mirror.lan.", "mir_ror.lan",
                "mirror.lan:5000", "https://mirror.lan", "a.*.lan", longLabel + ".lan")) {
            IllegalArgumentException refused = assertThrows(IllegalArgumentException.class,
                    () -> ServerNames.parse(List.of(bad), List.of()), bad);
            assertEquals("not a DNS name: \"" + bad + "\"", refused.getMessage());
        }
        assertEquals("10.0.0.5 is an IP address, not a DNS name", assertThrows(IllegalArgumentException.class,
                () -> ServerNames.parse(List.of("10.0.0.5"), List.of())).getMessage());
    }

    @Test
    void refusesWhatIsNotAnAddressLiteralWithoutLookingItUp() {
        for (String bad : List.of("10.0.0.300", "mirror.lan", "localhost", "10.0.0", "[::1]", "")) {
            assertEquals("not an IP address: \"" + bad + "\"", assertThrows(IllegalArgumentException.class,
                    () -> ServerNames.parse(List.of(), List.of(bad)), bad).getMessage());
        }
    }

    @Test
    void needsAtLeastOneName() {
        assertEquals("a server certificate needs at least one DNS name or IP address",
                assertThrows(IllegalArgumentException.class, () -> ServerNames.parse(List.of(), List.of())).getMessage());
    }
}
