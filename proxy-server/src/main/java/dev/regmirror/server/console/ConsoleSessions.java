package dev.regmirror.server.console;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Base64;
import java.util.Comparator;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The console's signed-in sessions, in memory: each a random id (the cookie), a random CSRF token
 * the pages send back on every state-changing request, who signed in, and when it lapses (after
 * {@link #IDLE} without a request, {@link #MAX_AGE} at most). A restart signs everyone out.
 */
public final class ConsoleSessions {

    /** The session cookie's name. */
    public static final String COOKIE = "regmirror_session";
    /** The header the console's scripts send the CSRF token in. */
    public static final String CSRF_HEADER = "X-Regmirror-Csrf";
    static final Duration IDLE = Duration.ofHours(1);
    static final Duration MAX_AGE = Duration.ofHours(12);
    private static final int MAX_SESSIONS = 1000;

    /** A signed-in session; {@code user} is the account's name, or {@code "admin token"}. */
    public record Session(String id, String csrf, String user, Instant created) {

        public Session {
            Objects.requireNonNull(id, "id");
            Objects.requireNonNull(csrf, "csrf");
            Objects.requireNonNull(user, "user");
            Objects.requireNonNull(created, "created");
        }

        /** Whether {@code given} is this session's CSRF token (compared in constant time). */
        public boolean csrfMatches(String given) {
            return given != null && MessageDigest.isEqual(given.getBytes(StandardCharsets.UTF_8),
                    csrf.getBytes(StandardCharsets.UTF_8));
        }

        @Override
        public String toString() {
            return "Session[user=" + user + ", created=" + created + "]";
        }
    }

    private record Entry(Session session, Instant lastUsed) {
    }

    private final Map<String, Entry> sessions = new ConcurrentHashMap<>();
    private final SecureRandom random;
    private final Clock clock;

    public ConsoleSessions(SecureRandom random, Clock clock) {
        this.random = random;
        this.clock = clock;
    }

    /** A new session for {@code user}; past {@value #MAX_SESSIONS} sessions the least recently used goes. */
    public Session open(String user) {
        Instant now = clock.instant();
        Session session = new Session(randomToken(), randomToken(), user, now);
        if (sessions.size() >= MAX_SESSIONS) {
            sessions.entrySet().stream().min(Comparator.comparing(entry -> entry.getValue().lastUsed()))
                    .ifPresent(oldest -> sessions.remove(oldest.getKey()));
        }
        sessions.put(session.id(), new Entry(session, now));
        return session;
    }

    /** The live session a {@code Cookie} header names, marked used now; empty if none or lapsed. */
    public Optional<Session> fromCookies(String cookieHeader) {
        Optional<String> id = cookie(cookieHeader);
        if (id.isEmpty()) {
            return Optional.empty();
        }
        Instant now = clock.instant();
        Entry entry = sessions.get(id.get());
        if (entry == null) {
            return Optional.empty();
        }
        if (now.isAfter(entry.lastUsed().plus(IDLE)) || now.isAfter(entry.session().created().plus(MAX_AGE))) {
            sessions.remove(id.get(), entry);
            return Optional.empty();
        }
        sessions.replace(id.get(), entry, new Entry(entry.session(), now));
        return Optional.of(entry.session());
    }

    /** Signs the session out. */
    public void close(Session session) {
        sessions.remove(session.id());
    }

    /** The value of our cookie in a {@code Cookie} header. */
    static Optional<String> cookie(String cookieHeader) {
        if (cookieHeader == null) {
            return Optional.empty();
        }
        for (String pair : cookieHeader.split(";")) {
            String trimmed = pair.trim();
            if (trimmed.startsWith(COOKIE + "=")) {
                String value = trimmed.substring(COOKIE.length() + 1);
                return value.isEmpty() ? Optional.empty() : Optional.of(value);
            }
        }
        return Optional.empty();
    }

    private String randomToken() {
        byte[] bytes = new byte[32];
        random.nextBytes(bytes);
        return Base64.getUrlEncoder().withoutPadding().encodeToString(bytes);
    }
}
