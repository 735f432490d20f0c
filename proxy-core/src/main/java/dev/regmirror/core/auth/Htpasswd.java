package dev.regmirror.core.auth;

import dev.regmirror.core.error.Printable;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.AccessDeniedException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Pattern;

/**
 * The entries of an htpasswd file, {@code user:hash} per line as nginx and distribution read it
 * (blank lines and lines starting with {@code #} skipped, an nginx {@code :comment} after the hash
 * ignored), accepting bcrypt hashes only; never printed.
 */
final class Htpasswd {

    /** No htpasswd file comes near this; a bigger one is a mistake, not a list of accounts. */
    static final long MAX_BYTES = 4L << 20;

    /** {@code $2y$}, {@code $2a$} or {@code $2b$}, a cost of 04 to 31, then 22 characters of salt and 31 of hash. */
    private static final Pattern BCRYPT = Pattern.compile("\\$2[aby]\\$(0[4-9]|[12][0-9]|3[01])\\$[./A-Za-z0-9]{53}");

    /** No accounts. */
    static final Htpasswd EMPTY = new Htpasswd(Map.of());

    private final Map<String, String> hashes;

    private Htpasswd(Map<String, String> hashes) {
        this.hashes = Map.copyOf(hashes);
    }

    /** Reads and checks a file; the message of any failure names the file, and the line when there is one. */
    static Htpasswd read(Path file) throws IOException {
        String where = "htpasswd file " + file;
        byte[] bytes;
        try {
            if (Files.size(file) > MAX_BYTES) {
                throw new IOException(where + ": larger than " + (MAX_BYTES >> 20) + " MiB");
            }
            bytes = Files.readAllBytes(file);
        } catch (IOException e) {
            throw e.getMessage() != null && e.getMessage().startsWith(where) ? e : new IOException(cannotRead(file, e), e);
        }
        String content;
        try {
            content = StandardCharsets.UTF_8.newDecoder()
                    .onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT)
                    .decode(ByteBuffer.wrap(bytes)).toString();
        } catch (CharacterCodingException e) {
            throw new IOException(where + ": not UTF-8 text");
        }
        return parse(where, content);
    }

    static Htpasswd parse(String where, String content) throws IOException {
        Map<String, String> hashes = new LinkedHashMap<>();
        Map<String, Integer> lineOf = new HashMap<>();
        String[] lines = (content.startsWith("\uFEFF") ? content.substring(1) : content).split("\n", -1);
        for (int i = 0; i < lines.length; i++) {
            int number = i + 1;
            String line = lines[i].strip();
            if (line.isEmpty() || line.startsWith("#")) {
                continue;
            }
            int colon = line.indexOf(':');
            if (colon < 0) {
                throw new IOException(where + ", line " + number + ": not user:hash");
            }
            String user = line.substring(0, colon);
            String rest = line.substring(colon + 1);
            int comment = rest.indexOf(':');
            String hash = comment < 0 ? rest : rest.substring(0, comment);
            if (user.isEmpty()) {
                throw new IOException(where + ", line " + number + ": empty user name");
            }
            if (!Account.isValidName(user)) {
                throw new IOException(where + ", line " + number + ": invalid user name \"" + Printable.of(user)
                        + "\" (1 to 255 characters, no control characters)");
            }
            if (!BCRYPT.matcher(hash).matches()) {
                throw new IOException(where + ", line " + number + " (user " + Printable.of(user) + "): " + kindOf(hash)
                        + "; only bcrypt hashes ($2y$, $2a$, $2b$) are accepted: create them with htpasswd -B");
            }
            Integer earlier = lineOf.putIfAbsent(user, number);
            if (earlier != null) {
                throw new IOException(where + ", line " + number + ": user " + Printable.of(user)
                        + " is already defined on line " + earlier);
            }
            hashes.put(user, hash);
        }
        return new Htpasswd(hashes);
    }

    /** The message for a file that cannot be read at all. */
    static String cannotRead(Path file, IOException e) {
        String why;
        if (e instanceof NoSuchFileException) {
            why = "no such file";
        } else if (e instanceof AccessDeniedException) {
            why = "permission denied";
        } else {
            why = e.getClass().getSimpleName() + (e.getMessage() == null ? "" : " " + e.getMessage());
        }
        return "cannot read htpasswd file " + file + ": " + why;
    }

    /** Names the kind of a refused hash without showing it. */
    private static String kindOf(String hash) {
        if (hash.isEmpty()) {
            return "no password hash";
        }
        if (hash.startsWith("$apr1$")) {
            return "an Apache MD5 ($apr1$) hash";
        }
        if (hash.startsWith("{SHA}")) {
            return "a SHA-1 ({SHA}) hash";
        }
        if (hash.startsWith("$1$")) {
            return "an MD5-crypt ($1$) hash";
        }
        if (hash.startsWith("$5$") || hash.startsWith("$6$")) {
            return "a SHA-crypt (" + hash.substring(0, 3) + ") hash";
        }
        if (hash.startsWith("$2")) {
            return "a malformed or unsupported bcrypt hash";
        }
        return "a crypt() hash or a plain-text password";
    }

    Optional<String> hash(String user) {
        return Optional.ofNullable(hashes.get(user));
    }

    int size() {
        return hashes.size();
    }

    @Override
    public String toString() {
        return "Htpasswd[" + hashes.size() + " accounts]";
    }
}
