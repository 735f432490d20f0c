package dev.regmirror.core.hosted;

import dev.regmirror.core.blob.ManifestStore;
import dev.regmirror.core.error.InvalidRequestException;
import dev.regmirror.core.error.RegistryErrorCode;
import dev.regmirror.core.manifest.Descriptor;
import dev.regmirror.core.manifest.ManifestBytes;
import dev.regmirror.core.manifest.PushedManifest;
import dev.regmirror.core.reference.Digest;
import dev.regmirror.core.reference.Reference;
import dev.regmirror.core.reference.Tag;
import dev.regmirror.core.upstream.Route;
import java.io.IOException;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.locks.Lock;

/**
 * The manifests, tags and referrers of hosted repositories, as the
 * <a href="https://github.com/opencontainers/distribution-spec/blob/main/spec.md#pushing-manifests">distribution
 * spec</a> has them pushed, read, listed and deleted: bytes stored exactly as pushed in the
 * {@link ManifestStore}, links in the {@link HostedStore}, written under its push lock. Never asks an
 * upstream. Disk I/O: call from a disk executor.
 */
public final class HostedManifests {

    private final HostedStore store;
    private final ManifestStore manifests;
    private final int maxManifestBytes;

    public HostedManifests(HostedStore store, ManifestStore manifests, int maxManifestBytes) {
        this.store = store;
        this.manifests = manifests;
        this.maxManifestBytes = maxManifestBytes;
    }

    /** The largest manifest a push may send. */
    public int maxManifestBytes() {
        return maxManifestBytes;
    }

    /** A stored push: the manifest's digest, and its subject where it has one (for {@code OCI-Subject}). */
    public record Pushed(Digest digest, Optional<Digest> subject) {
    }

    /**
     * Stores a pushed manifest in the repository, and points the tag at it when pushed by tag. Every
     * blob it references must be linked in the repository and every manifest an index lists pushed
     * to it; its subject need not exist.
     *
     * @throws InvalidRequestException MANIFEST_TOO_LARGE, MANIFEST_INVALID, DIGEST_INVALID (pushed by a
     *                                 digest that is not the body's) or MANIFEST_BLOB_UNKNOWN (naming the
     *                                 first digest missing); nothing is stored then
     */
    public Pushed push(Route route, Reference reference, Optional<String> contentType, byte[] body) throws IOException {
        if (body.length > maxManifestBytes) {
            throw tooLarge(route, body.length);
        }
        PushedManifest manifest = PushedManifest.parse(body, contentType);
        Digest digest = reference instanceof Digest asked ? digestOf(body, asked.algorithm()) : Digest.sha256Of(body);
        if (reference instanceof Digest asked && !asked.equals(digest)) {
            throw new InvalidRequestException(RegistryErrorCode.DIGEST_INVALID, "manifest pushed to " + route + " as "
                    + asked + " has the digest " + digest, Map.of("digest", asked.toString()));
        }
        Lock lock = store.pushLock().readLock();
        lock.lock();
        try {
            for (Descriptor blob : manifest.blobs()) {
                if (!store.holds(route, blob.digest())) {
                    throw unknown(route, "blob", blob.digest());
                }
            }
            for (Descriptor child : manifest.manifests()) {
                if (!store.hasManifest(route, child.digest())) {
                    throw unknown(route, "manifest", child.digest());
                }
            }
            store.retain(digest); // before it is stored: an eviction chosen meanwhile keeps its file
            manifests.put(new ManifestBytes(manifest.mediaType(), digest, body));
            store.linkManifest(route, digest);
            Optional<Digest> subject = manifest.subject().map(Descriptor::digest);
            if (subject.isPresent()) {
                store.linkReferrer(route, subject.get(), digest);
            }
            if (reference instanceof Tag tag) {
                store.tag(route, tag, digest);
            }
            return new Pushed(digest, subject);
        } finally {
            lock.unlock();
        }
    }

    /** The manifest a tag or digest names in the repository; empty when it is not in it. */
    public Optional<ManifestBytes> get(Route route, Reference reference) throws IOException {
        Optional<Digest> digest = reference instanceof Tag tag ? store.tag(route, tag) : Optional.of((Digest) reference);
        if (digest.isEmpty() || !store.hasManifest(route, digest.get())) {
            return Optional.empty();
        }
        return manifests.get(digest.get());
    }

    /** The repository's tags in lexical order; empty when the repository holds no manifest at all. */
    public Optional<List<Tag>> tags(Route route) throws IOException {
        List<Tag> tags = store.tags(route);
        if (tags.isEmpty() && store.manifests(route).isEmpty()) {
            return Optional.empty();
        }
        return Optional.of(tags);
    }

    /** Takes a manifest out of the repository, with every tag pointing at it; whether it was in. */
    public boolean deleteManifest(Route route, Digest digest) throws IOException {
        Lock lock = store.pushLock().readLock();
        lock.lock();
        try {
            if (!store.hasManifest(route, digest)) {
                return false;
            }
            for (Tag tag : store.tags(route)) {
                if (store.tag(route, tag).filter(digest::equals).isPresent()) {
                    store.untag(route, tag);
                }
            }
            Optional<ManifestBytes> stored = manifests.get(digest);
            if (stored.isPresent()) {
                Optional<Digest> subject = read(stored.get()).flatMap(PushedManifest::subject).map(Descriptor::digest);
                if (subject.isPresent()) {
                    store.unlinkReferrer(route, subject.get(), digest);
                }
            }
            return store.unlinkManifest(route, digest);
        } finally {
            lock.unlock();
        }
    }

    /** Removes a tag (the manifest stays); whether it existed. */
    public boolean deleteTag(Route route, Tag tag) throws IOException {
        Lock lock = store.pushLock().readLock();
        lock.lock();
        try {
            return store.untag(route, tag);
        } finally {
            lock.unlock();
        }
    }

    /** Takes a blob out of the repository; whether it was in. */
    public boolean deleteBlob(Route route, Digest digest) throws IOException {
        Lock lock = store.pushLock().readLock();
        lock.lock();
        try {
            return store.unlinkBlob(route, digest);
        } finally {
            lock.unlock();
        }
    }

    /**
     * The manifests of the repository whose subject is {@code subject}, by digest, those of the
     * artifact type asked for where one is; empty for a subject nothing refers to.
     */
    public List<Referrer> referrers(Route route, Digest subject, Optional<String> artifactType) throws IOException {
        List<Referrer> found = new ArrayList<>();
        for (Digest digest : store.referrers(route, subject)) {
            if (!store.hasManifest(route, digest)) {
                continue;
            }
            Optional<ManifestBytes> stored = manifests.get(digest);
            Optional<PushedManifest> manifest = stored.flatMap(HostedManifests::read);
            if (manifest.isEmpty()) {
                continue;
            }
            Optional<String> type = manifest.get().effectiveArtifactType();
            if (artifactType.isPresent() && !artifactType.equals(type)) {
                continue;
            }
            found.add(new Referrer(stored.get().mediaType(), digest, stored.get().size(), type,
                    manifest.get().annotations()));
        }
        found.sort(Comparator.comparing(referrer -> referrer.digest().toString()));
        return found;
    }

    /** A stored manifest read again; empty if it no longer parses (it did when pushed). */
    private static Optional<PushedManifest> read(ManifestBytes stored) {
        try {
            return Optional.of(PushedManifest.parse(stored.bytes(), Optional.of(stored.mediaType())));
        } catch (InvalidRequestException e) {
            return Optional.empty();
        }
    }

    /** The body's digest by the algorithm the client named it with (sha256 or sha512). */
    private static Digest digestOf(byte[] body, String algorithm) {
        try {
            MessageDigest hasher = MessageDigest.getInstance("sha512".equals(algorithm) ? "SHA-512" : "SHA-256");
            return new Digest(algorithm, HexFormat.of().formatHex(hasher.digest(body)));
        } catch (java.security.NoSuchAlgorithmException e) {
            throw new IllegalStateException("the JVM lacks " + algorithm, e);
        }
    }

    /** The error of a manifest past the limit: a push whose declared length is too much is refused before its body is read. */
    public InvalidRequestException tooLarge(Route route, long size) {
        return new InvalidRequestException(RegistryErrorCode.MANIFEST_TOO_LARGE, "manifest pushed to " + route
                + " is larger than the " + maxManifestBytes + " bytes regmirror.hosted.max-manifest-size allows ("
                + size + " bytes came)");
    }

    private static InvalidRequestException unknown(Route route, String kind, Digest digest) {
        return new InvalidRequestException(RegistryErrorCode.MANIFEST_BLOB_UNKNOWN, "the manifest references "
                + kind + " " + digest + ", which is not in " + route, Map.of("digest", digest.toString()));
    }
}
