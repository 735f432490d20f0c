package dev.regmirror.core.client;

import dev.regmirror.core.manifest.ManifestBytes;
import dev.regmirror.core.manifest.Manifests;
import dev.regmirror.core.manifest.MediaTypes;
import dev.regmirror.core.reference.Digest;
import dev.regmirror.core.reference.Reference;
import java.net.http.HttpHeaders;
import java.util.Optional;
import java.util.Set;

/**
 * Turns a manifest answer into {@link ManifestBytes}: the media type from Content-Type (or the bytes
 * when that is generic), and a digest that must match the one asked for and the one the upstream
 * declared in {@code Docker-Content-Digest}.
 */
final class ManifestCheck {

    /** The largest manifest accepted, as distribution's own limit. */
    static final int MAX_MANIFEST = 4 * 1024 * 1024;

    private static final Set<String> GENERIC = Set.of("", "application/json", "application/octet-stream", "text/plain");

    private final Failures failures;

    ManifestCheck(Failures failures) {
        this.failures = failures;
    }

    ManifestBytes check(Fetch fetch, Reference reference, HttpHeaders headers, byte[] bytes) {
        Digest sha256 = Digest.sha256Of(bytes);
        Digest digest = sha256;
        if (reference instanceof Digest wanted) {
            Digest actual = wanted.algorithm().equals("sha256") ? sha256 : digestOf(wanted, bytes);
            if (!actual.equals(wanted)) {
                throw failures.protocol(fetch.what(), "the content has digest " + actual + ", expected " + wanted, 200);
            }
            digest = wanted;
        }
        Optional<Digest> declared = declaredDigest(headers);
        if (declared.isPresent() && declared.get().algorithm().equals("sha256") && !declared.get().equals(sha256)) {
            throw failures.protocol(fetch.what(), "the content has digest " + sha256
                    + ", but Docker-Content-Digest says " + declared.get(), 200);
        }
        return new ManifestBytes(mediaType(headers, bytes), digest, bytes);
    }

    /** The Content-Type's essence, or what the bytes say when it is missing or generic. */
    static String mediaType(HttpHeaders headers, byte[] bytes) {
        String essence = MediaTypes.essence(headers.firstValue("Content-Type").orElse(""));
        if (!GENERIC.contains(essence)) {
            return essence;
        }
        return Manifests.detectMediaType(bytes).orElse(essence.isEmpty() ? "application/octet-stream" : essence);
    }

    /** The Docker-Content-Digest header, where present and well-formed. */
    static Optional<Digest> declaredDigest(HttpHeaders headers) {
        try {
            return headers.firstValue("Docker-Content-Digest").map(String::trim).map(Digest::parse);
        } catch (RuntimeException malformed) {
            return Optional.empty();
        }
    }

    private static Digest digestOf(Digest like, byte[] bytes) {
        var hasher = like.newHasher();
        return new Digest(like.algorithm(), java.util.HexFormat.of().formatHex(hasher.digest(bytes)));
    }
}
