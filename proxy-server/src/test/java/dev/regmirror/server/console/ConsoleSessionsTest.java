package dev.regmirror.server.console;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.regmirror.core.testing.MutableClock;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.Optional;
import org.junit.jupiter.api.Test;

class ConsoleSessionsTest {

    private final MutableClock clock = new MutableClock();
    private final ConsoleSessions sessions = new ConsoleSessions(new SecureRandom(), clock);

    private Optional<ConsoleSessions.Session> find(ConsoleSessions.Session session) {
        return sessions.fromCookies("other=1; " + ConsoleSessions.COOKIE + "=" + session.id() + "; more=2");
    }

    @Test
    void aSessionIsFoundByItsCookieAndHasItsOwnRandomCsrfToken() {
        ConsoleSessions.Session alice = sessions.open("alice");
        ConsoleSessions.Session token = sessions.open("admin token");
        assertEquals(Optional.of(alice), find(alice));
        assertNotEquals(alice.id(), token.id());
        assertNotEquals(alice.csrf(), alice.id());
        assertTrue(alice.id().length() >= 43, "256 random bits");
        assertTrue(alice.csrfMatches(alice.csrf()));
        assertFalse(alice.csrfMatches(token.csrf()));
        assertFalse(alice.csrfMatches(null));
        assertEquals(Optional.empty(), sessions.fromCookies(null));
        assertEquals(Optional.empty(), sessions.fromCookies(ConsoleSessions.COOKIE + "="));
        assertEquals(Optional.empty(), sessions.fromCookies(ConsoleSessions.COOKIE + "=" + alice.csrf()));
        assertFalse(alice.toString().contains(alice.id()) || alice.toString().contains(alice.csrf()),
                "never logged: " + alice);
    }

    @Test
    void aSessionLapsesAfterAnHourUnusedAndTwelveHoursInAnyCase() {
        ConsoleSessions.Session idle = sessions.open("idle");
        ConsoleSessions.Session busy = sessions.open("busy");
        for (int i = 0; i < 12; i++) { // 11 h 48 min in all
            clock.advance(Duration.ofMinutes(59));
            assertTrue(find(busy).isPresent(), "used every 59 minutes");
        }
        assertTrue(find(idle).isEmpty(), "unused for over an hour");
        clock.advance(Duration.ofMinutes(59));
        assertTrue(find(busy).isEmpty(), "more than 12 hours old");
    }

    @Test
    void signingOutEndsTheSession() {
        ConsoleSessions.Session session = sessions.open("alice");
        sessions.close(session);
        assertTrue(find(session).isEmpty());
    }
}
