package dev.regmirror.core.net;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.InetAddress;
import java.util.List;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.api.Test;

/** CIDR blocks as a listener's allow list takes them. */
class AddressRangeTest {

    @ParameterizedTest
    @CsvSource({
        "10.0.0.0/8, 10.255.3.4, true",
        "10.0.0.0/8, 11.0.0.1, false",
        "192.168.1.5, 192.168.1.5, true",
        "192.168.1.5, 192.168.1.6, false",
        "192.168.1.77/26, 192.168.1.64, true",
        "192.168.1.77/26, 192.168.1.127, true",
        "192.168.1.77/26, 192.168.1.128, false",
        "0.0.0.0/0, 8.8.8.8, true",
        "fd00::/8, fd12:3456::1, true",
        "fd00::/8, fe80::1, false",
        "::1, ::1, true",
        "::/0, 10.0.0.1, false",
        "10.0.0.0/8, ::ffff:10.0.0.1, true",
    })
    void containsWhatTheBlockCovers(String block, String address, boolean inside) throws Exception {
        assertEquals(inside, AddressRange.parse(block).contains(InetAddress.getByName(address)), block + " " + address);
    }

    @ParameterizedTest
    @ValueSource(strings = {"", "10.0.0", "10.0.0.0/33", "10.0.0.0/-1", "10.0.0.0/x", "mirror.lan", "localhost",
        "fd00::/129", "300.1.1.1", "10.0.0.0/8/8", "dead.beef.cafe.face"})
    void anythingElseIsRefused(String text) {
        assertThrows(IllegalArgumentException.class, () -> AddressRange.parse(text));
    }

    @Test
    void theCanonicalFormIsTheMaskedNetwork() {
        assertEquals("192.168.1.64/26", AddressRange.parse("192.168.1.77/26").toString());
        assertEquals(AddressRange.parse("192.168.1.64/26"), AddressRange.parse(" 192.168.1.77/26 "));
        assertEquals("10.1.2.3/32", AddressRange.parse("10.1.2.3").toString());
    }

    @Test
    void anEmptyListServesEveryoneAndAListOnlyItsBlocks() throws Exception {
        assertTrue(AllowedClients.ANY.allows(InetAddress.getByName("203.0.113.9")));
        AllowedClients lan = AllowedClients.parse(List.of("10.0.0.0/8", "::1"));
        assertTrue(lan.allows(InetAddress.getByName("10.9.9.9")));
        assertTrue(lan.allows(InetAddress.getByName("::1")));
        assertFalse(lan.allows(InetAddress.getByName("127.0.0.1")), "loopback is not let in implicitly");
    }
}
