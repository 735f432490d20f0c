package dev.regmirror.core.client.auth;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/** Token responses as realms send them. */
class BearerTokenTest {

    private static Optional<BearerToken> parse(String json) {
        return BearerToken.fromJson(json.getBytes(StandardCharsets.UTF_8));
    }

    @Test
    void readsTokenOrAccessTokenAndExpiry() {
        assertEquals(Optional.of(new BearerToken("a", Duration.ofSeconds(300))),
                parse("{\"token\":\"a\",\"access_token\":\"b\",\"expires_in\":300,\"issued_at\":\"2024-05-01T10:00:00Z\"}"));
        assertEquals(Optional.of(new BearerToken("b", Duration.ofSeconds(60))), parse("{\"access_token\":\"b\"}"));
        assertEquals(Optional.of(new BearerToken("b", Duration.ofSeconds(60))),
                parse("{\"access_token\":\"b\",\"expires_in\":0}"));
    }

    @Test
    void responseWithoutUsableTokenIsEmpty() {
        assertEquals(Optional.empty(), parse("{\"expires_in\":300}"));
        assertEquals(Optional.empty(), parse("{\"token\":\"\"}"));
        assertEquals(Optional.empty(), parse("{\"token\":\"a\\r\\nX-Injected: 1\"}"));
        assertEquals(Optional.empty(), parse("<html>"));
    }

    @Test
    void tokenIsNeverPrinted() {
        assertFalse(new BearerToken("secret-value", Duration.ofSeconds(60)).toString().contains("secret-value"));
    }
}
