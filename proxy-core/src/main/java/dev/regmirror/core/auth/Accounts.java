package dev.regmirror.core.auth;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import com.github.benmanes.caffeine.cache.Ticker;
import dev.regmirror.core.error.Printable;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.nio.file.attribute.FileTime;
import java.security.GeneralSecurityException;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.HexFormat;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;
import org.bouncycastle.crypto.generators.OpenBSDBCrypt;

/**
 * The accounts that can sign in: those of an htpasswd file (bcrypt only), re-read when the file
 * changes, with administrators named by the settings rather than the file.
 */
public final class Accounts {

    /** How long a successful check is remembered. */
    static final Duration VERIFIED_TTL = Duration.ofMinutes(10);
    /** The most successful checks remembered at once. */
    static final long VERIFIED_MAX = 10_000;
    /** Checked for unknown accounts, so that they take as long to refuse as a wrong password. */
    private static final String DECOY = "$2y$10$NhPUfzURakUd5mOFhTVSZOqNWOHUUrOm/cEJrAxv2KHR3W.guUlTu";

    private final Optional<Path> file;
    private final Set<String> admins;
    private final PasswordCheck check;
    private final Cache<VerifiedKey, Account> verified;
    private final SecretKeySpec cacheKey;
    private volatile Loaded loaded;
    /** The state of the file whose failure was last reported, so each failure is reported once. */
    private FileStamp failed;

    /**
     * The accounts of an htpasswd file.
     *
     * @param admins the accounts that are administrators ({@code regmirror.auth.admins})
     * @param ticker the clock of the remembered checks
     * @throws IOException if the file cannot be read or is not a valid bcrypt htpasswd file; the
     *                     message names the file, and the line when there is one
     */
    public static Accounts open(Path file, Set<String> admins, Ticker ticker) throws IOException {
        return new Accounts(Optional.of(file), admins, ticker, VERIFIED_TTL, OpenBSDBCrypt::checkPassword);
    }

    /** No accounts: no one can sign in. */
    public static Accounts none() {
        try {
            return new Accounts(Optional.empty(), Set.of(), Ticker.systemTicker(), VERIFIED_TTL, (hash, password) -> false);
        } catch (IOException e) {
            throw new IllegalStateException("no file was read", e);
        }
    }

    Accounts(Optional<Path> file, Set<String> admins, Ticker ticker, Duration ttl, PasswordCheck check)
            throws IOException {
        this.file = Objects.requireNonNull(file, "file");
        this.admins = Set.copyOf(admins);
        this.check = Objects.requireNonNull(check, "check");
        this.verified = Caffeine.newBuilder()
                .ticker(Objects.requireNonNull(ticker, "ticker"))
                .maximumSize(VERIFIED_MAX)
                .expireAfterWrite(ttl)
                .build();
        byte[] key = new byte[32];
        new SecureRandom().nextBytes(key);
        this.cacheKey = new SecretKeySpec(key, "HmacSHA256");
        this.loaded = file.isEmpty() ? new Loaded(0, FileStamp.NONE, Htpasswd.EMPTY) : first(file.get());
    }

    private static Loaded first(Path file) throws IOException {
        FileStamp stamp;
        try {
            stamp = FileStamp.of(file);
        } catch (IOException e) {
            throw new IOException(Htpasswd.cannotRead(file, e), e);
        }
        return new Loaded(0, stamp, Htpasswd.read(file));
    }

    /** Checks a bcrypt hash; package-private so tests can count the checks. */
    @FunctionalInterface
    interface PasswordCheck {
        boolean matches(String bcryptHash, char[] password);
    }

    /**
     * Checks a user name and password. Slow by design when not remembered (bcrypt, 50-100 ms at
     * cost 10): call it on a worker thread, never on an event loop. A success is remembered for a
     * while, since Docker sends Basic credentials with every request to a mirror that asks for
     * them; what is remembered is a keyed SHA-256 (HMAC) of user and password, never the password,
     * and it is forgotten when the file is read again. An unknown account is checked against a
     * decoy hash, so that it takes as long as a wrong password.
     */
    public Verification verify(BasicCredentials credentials) {
        Loaded current = loaded;
        VerifiedKey key = new VerifiedKey(current.generation(), digest(credentials));
        Account remembered = verified.getIfPresent(key);
        if (remembered != null) {
            return new Verification.Verified(remembered);
        }
        String user = credentials.username();
        Optional<String> hash = current.htpasswd().hash(user);
        char[] password = credentials.password().toCharArray();
        if (hash.isEmpty()) {
            matches(DECOY, password);
            return new Verification.Rejected("unknown account " + Printable.of(user));
        }
        if (!matches(hash.get(), password)) {
            return new Verification.Rejected("wrong password for account " + Printable.of(user));
        }
        Account account = new Account(user, admins.contains(user));
        verified.put(key, account);
        return new Verification.Verified(account);
    }

    private boolean matches(String hash, char[] password) {
        try {
            return check.matches(hash, password);
        } catch (RuntimeException e) { // a hash the parser let through but bcrypt refuses: no match
            return false;
        }
    }

    /**
     * Re-reads the file if its size, modification time or identity changed since it was last read.
     * A file that became unreadable or invalid keeps the accounts read before and is reported once
     * (until it changes again). Call it periodically, on a worker thread: it reads the file.
     */
    public synchronized Reload reloadIfChanged() {
        if (file.isEmpty()) {
            return new Reload.Unchanged();
        }
        Loaded current = loaded;
        FileStamp stamp;
        try {
            stamp = FileStamp.of(file.get());
        } catch (IOException e) {
            return failure(FileStamp.MISSING, Htpasswd.cannotRead(file.get(), e), current);
        }
        if (stamp.equals(current.stamp())) {
            failed = null;
            return new Reload.Unchanged();
        }
        try {
            Htpasswd read = Htpasswd.read(file.get());
            loaded = new Loaded(current.generation() + 1, stamp, read);
            failed = null;
            verified.invalidateAll();
            return new Reload.Reloaded(read.size());
        } catch (IOException e) {
            return failure(stamp, e.getMessage(), current);
        }
    }

    private Reload failure(FileStamp stamp, String message, Loaded current) {
        if (stamp.equals(failed)) {
            return new Reload.Unchanged();
        }
        failed = stamp;
        return new Reload.Failed(message + "; keeping the " + current.htpasswd().size() + " accounts read before");
    }

    /** How many accounts there are. */
    public int size() {
        return loaded.htpasswd().size();
    }

    private String digest(BasicCredentials credentials) {
        try {
            Mac mac = Mac.getInstance("HmacSHA256");
            mac.init(cacheKey);
            // A user name holds no colon, so user:password is unambiguous.
            return HexFormat.of().formatHex(mac.doFinal(
                    (credentials.username() + ":" + credentials.password()).getBytes(StandardCharsets.UTF_8)));
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("HmacSHA256 is part of every JRE", e);
        }
    }

    @Override
    public String toString() {
        return "Accounts[" + file.map(Path::toString).orElse("none") + ", " + size() + " accounts]";
    }

    /** What happened when the file was checked. */
    public sealed interface Reload {

        /** The file did not change, or its failure was already reported. */
        record Unchanged() implements Reload {
        }

        /** The file changed and was read: these are now the accounts. */
        record Reloaded(int accounts) implements Reload {
        }

        /** The file changed but cannot be read or is invalid; the accounts read before stay. */
        record Failed(String message) implements Reload {

            public Failed {
                Objects.requireNonNull(message, "message");
            }
        }
    }

    /** The accounts read, which generation of the file they are, and the state of the file they came from. */
    private record Loaded(long generation, FileStamp stamp, Htpasswd htpasswd) {
    }

    /** A remembered successful check: valid only for the generation of the file it was made against. */
    private record VerifiedKey(long generation, String digest) {
    }

    /** What tells that a file changed: size, modification time and identity (a replaced file is a new one). */
    private record FileStamp(long size, FileTime modified, Object fileKey) {

        static final FileStamp NONE = new FileStamp(-2, FileTime.fromMillis(0), null);
        static final FileStamp MISSING = new FileStamp(-1, FileTime.fromMillis(0), null);

        static FileStamp of(Path file) throws IOException {
            BasicFileAttributes attributes = Files.readAttributes(file, BasicFileAttributes.class);
            return new FileStamp(attributes.size(), attributes.lastModifiedTime(), attributes.fileKey());
        }
    }
}
