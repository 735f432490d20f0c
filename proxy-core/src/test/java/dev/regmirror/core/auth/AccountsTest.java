package dev.regmirror.core.auth;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.regmirror.core.auth.Accounts.Reload;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.time.Duration;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.bouncycastle.crypto.generators.OpenBSDBCrypt;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Accounts from real bcrypt hashes: checks, remembered checks on a hand-moved ticker, and reloads. */
class AccountsTest {

    @TempDir
    Path dir;

    private final AtomicLong nanos = new AtomicLong();
    private final AtomicInteger checks = new AtomicInteger();

    /** A bcrypt hash as htpasswd -B writes it, at the lowest cost so tests stay fast. */
    static String bcrypt(String version, String password) {
        byte[] salt = new byte[16];
        new java.security.SecureRandom().nextBytes(salt);
        return OpenBSDBCrypt.generate(version, password.toCharArray(), salt, 4);
    }

    private Path htpasswd(String content) throws IOException {
        Path file = dir.resolve("htpasswd");
        Files.writeString(file, content);
        return file;
    }

    private Accounts open(Path file, Set<String> admins) throws IOException {
        return new Accounts(Optional.of(file), admins, nanos::get, Duration.ofMinutes(10), (hash, password) -> {
            checks.incrementAndGet();
            return OpenBSDBCrypt.checkPassword(hash, password);
        });
    }

    private static Verification verify(Accounts accounts, String user, String password) {
        return accounts.verify(new BasicCredentials(user, password));
    }

    @Test
    void verifiesBcryptOfEveryVersionAndNamesAdminsFromTheSettings() throws IOException {
        Accounts accounts = open(htpasswd("alice:" + bcrypt("2y", "alice-pw") + "\nbob:" + bcrypt("2a", "bob-pw")
                + "\ncarol:" + bcrypt("2b", "carol-pw") + "\n"), Set.of("carol"));
        assertEquals(3, accounts.size());
        assertEquals(new Verification.Verified(new Account("alice", false)), verify(accounts, "alice", "alice-pw"));
        assertEquals(new Verification.Verified(new Account("bob", false)), verify(accounts, "bob", "bob-pw"));
        assertEquals(new Verification.Verified(new Account("carol", true)), verify(accounts, "carol", "carol-pw"));
    }

    @Test
    void aCostTenHashAsHtpasswdWritesByDefaultVerifies() throws IOException {
        byte[] salt = new byte[16];
        Accounts accounts = Accounts.open(htpasswd("alice:" + OpenBSDBCrypt.generate("2y", "pw".toCharArray(), salt, 10)),
                Set.of(), nanos::get);
        assertEquals(new Verification.Verified(new Account("alice", false)), verify(accounts, "alice", "pw"));
        assertInstanceOf(Verification.Rejected.class, verify(accounts, "alice", "PW"));
    }

    @Test
    void wrongPasswordsAndUnknownAccountsAreRejectedWithoutShowingThePassword() throws IOException {
        Accounts accounts = open(htpasswd("alice:" + bcrypt("2y", "right") + "\n"), Set.of());
        Verification wrong = verify(accounts, "alice", "hunter2");
        assertEquals(new Verification.Rejected("wrong password for account alice"), wrong);
        Verification unknown = verify(accounts, "mallory", "hunter2");
        assertEquals(new Verification.Rejected("unknown account mallory"), unknown);
        assertEquals(2, checks.get(), "an unknown account costs a bcrypt check too, so it is not told apart by time");
        assertInstanceOf(Verification.Rejected.class, verify(accounts, "alice", ""));
        assertFalse((wrong + " " + unknown + " " + new BasicCredentials("alice", "hunter2")).contains("hunter2"));
    }

    @Test
    void aSuccessfulCheckIsRememberedUntilItsTimeIsUp() throws IOException {
        Accounts accounts = open(htpasswd("alice:" + bcrypt("2y", "pw") + "\n"), Set.of());
        verify(accounts, "alice", "pw");
        verify(accounts, "alice", "pw");
        assertEquals(1, checks.get(), "Docker sends Basic credentials with every request: the second is remembered");

        assertInstanceOf(Verification.Rejected.class, verify(accounts, "alice", "pw2"));
        verify(accounts, "alice", "pw2");
        assertEquals(3, checks.get(), "failures are never remembered, and another password is another key");

        nanos.addAndGet(TimeUnit.MINUTES.toNanos(10));
        assertInstanceOf(Verification.Verified.class, verify(accounts, "alice", "pw"));
        assertEquals(4, checks.get(), "after the TTL, checked again");
    }

    @Test
    void aChangedFileIsReadAgainAndForgetsRememberedChecks() throws IOException {
        Path file = htpasswd("alice:" + bcrypt("2y", "old") + "\n");
        Accounts accounts = open(file, Set.of());
        assertInstanceOf(Verification.Verified.class, verify(accounts, "alice", "old"));
        assertEquals(new Reload.Unchanged(), accounts.reloadIfChanged());

        Files.writeString(file, "alice:" + bcrypt("2y", "new") + "\nbob:" + bcrypt("2b", "bob") + "\n");
        assertEquals(new Reload.Reloaded(2), accounts.reloadIfChanged());
        assertEquals(new Reload.Unchanged(), accounts.reloadIfChanged());
        assertInstanceOf(Verification.Rejected.class, verify(accounts, "alice", "old"));
        assertInstanceOf(Verification.Verified.class, verify(accounts, "alice", "new"));
        assertInstanceOf(Verification.Verified.class, verify(accounts, "bob", "bob"));
    }

    @Test
    void aChangeOfTheModificationTimeAloneIsAChange() throws IOException {
        Path file = htpasswd("alice:" + bcrypt("2y", "one") + "\n");
        Accounts accounts = open(file, Set.of());
        FileTime before = Files.getLastModifiedTime(file);
        Files.writeString(file, "alice:" + bcrypt("2y", "two") + "\n"); // same size
        Files.setLastModifiedTime(file, FileTime.fromMillis(before.toMillis() + 2000));
        assertEquals(new Reload.Reloaded(1), accounts.reloadIfChanged());
        assertInstanceOf(Verification.Verified.class, verify(accounts, "alice", "two"));
    }

    @Test
    void anInvalidFileKeepsThePreviousAccountsAndIsReportedOnce() throws IOException {
        Path file = htpasswd("alice:" + bcrypt("2y", "pw") + "\n");
        Accounts accounts = open(file, Set.of());

        Files.writeString(file, "alice:" + bcrypt("2y", "pw") + "\nbob:$apr1$r31.....$HqJZimcKQFAMYayBlzkrA/\n");
        Reload failed = accounts.reloadIfChanged();
        assertEquals(new Reload.Failed("htpasswd file " + file + ", line 2 (user bob): an Apache MD5 ($apr1$) hash; "
                + "only bcrypt hashes ($2y$, $2a$, $2b$) are accepted: create them with htpasswd -B; "
                + "keeping the 1 accounts read before"), failed);
        assertEquals(new Reload.Unchanged(), accounts.reloadIfChanged(), "reported once");
        assertInstanceOf(Verification.Verified.class, verify(accounts, "alice", "pw"));

        Files.delete(file);
        assertEquals(new Reload.Failed("cannot read htpasswd file " + file + ": no such file; "
                + "keeping the 1 accounts read before"), accounts.reloadIfChanged());
        assertEquals(new Reload.Unchanged(), accounts.reloadIfChanged());
        assertInstanceOf(Verification.Verified.class, verify(accounts, "alice", "pw"));

        Files.writeString(file, "carol:" + bcrypt("2y", "c") + "\n");
        assertEquals(new Reload.Reloaded(1), accounts.reloadIfChanged());
        assertInstanceOf(Verification.Rejected.class, verify(accounts, "alice", "pw"));
    }

    @Test
    void anInvalidFileAtStartIsRefusedNamingFileAndLine() throws IOException {
        Path file = htpasswd("alice:" + bcrypt("2y", "pw") + "\nalice:" + bcrypt("2y", "pw") + "\n");
        IOException e = assertThrows(IOException.class, () -> Accounts.open(file, Set.of(), nanos::get));
        assertEquals("htpasswd file " + file + ", line 2: user alice is already defined on line 1", e.getMessage());
        Path missing = dir.resolve("nope");
        assertEquals("cannot read htpasswd file " + missing + ": no such file",
                assertThrows(IOException.class, () -> Accounts.open(missing, Set.of(), nanos::get)).getMessage());
    }

    @Test
    void noAccountsRejectsEveryone() {
        Accounts none = Accounts.none();
        assertEquals(0, none.size());
        assertInstanceOf(Verification.Rejected.class, verify(none, "alice", "pw"));
        assertEquals(new Reload.Unchanged(), none.reloadIfChanged());
    }

    @Test
    void aHashMadeByApacheHtpasswdVerifies() throws Exception {
        Path tool = Path.of("/usr/bin/htpasswd");
        assumeTrue(Files.isExecutable(tool), "htpasswd (apache2-utils) is not installed");
        Process process = new ProcessBuilder(tool.toString(), "-nbB", "-C", "5", "dave", "dave's pw").start();
        String line = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8).strip();
        assertTrue(process.waitFor(30, TimeUnit.SECONDS) && process.exitValue() == 0, line);
        Accounts accounts = open(htpasswd(line + "\n"), Set.of("dave"));
        assertEquals(new Verification.Verified(new Account("dave", true)), verify(accounts, "dave", "dave's pw"));
        assertInstanceOf(Verification.Rejected.class, verify(accounts, "dave", "dave's pW"));
    }
}
