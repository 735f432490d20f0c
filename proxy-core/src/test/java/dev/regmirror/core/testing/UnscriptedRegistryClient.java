package dev.regmirror.core.testing;

import dev.regmirror.core.client.BlobBody;
import dev.regmirror.core.client.BlobHead;
import dev.regmirror.core.client.ManifestHead;
import dev.regmirror.core.client.RegistryClient;
import dev.regmirror.core.client.TagList;
import dev.regmirror.core.client.UpstreamReferrers;
import dev.regmirror.core.manifest.ManifestBytes;
import dev.regmirror.core.reference.Digest;
import dev.regmirror.core.reference.Reference;
import dev.regmirror.core.reference.RepositoryName;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.concurrent.CompletableFuture;

/**
 * A docker.io upstream for tests that script only some calls: every call a test does not override
 * fails loudly, so a test never passes on a call it did not expect.
 */
public abstract class UnscriptedRegistryClient implements RegistryClient {

    @Override
    public String registry() {
        return "docker.io";
    }

    @Override
    public CompletableFuture<ManifestHead> headManifest(RepositoryName name, Reference reference) {
        throw new UnsupportedOperationException("headManifest not scripted");
    }

    @Override
    public CompletableFuture<ManifestBytes> getManifest(RepositoryName name, Reference reference) {
        throw new UnsupportedOperationException("getManifest not scripted");
    }

    @Override
    public CompletableFuture<BlobHead> headBlob(RepositoryName name, Digest digest) {
        throw new UnsupportedOperationException("headBlob not scripted");
    }

    @Override
    public CompletableFuture<BlobBody> getBlob(RepositoryName name, Digest digest) {
        throw new UnsupportedOperationException("getBlob not scripted");
    }

    @Override
    public CompletableFuture<TagList> listTags(RepositoryName name, OptionalInt n, Optional<String> last) {
        throw new UnsupportedOperationException("listTags not scripted");
    }

    @Override
    public CompletableFuture<UpstreamReferrers> listReferrers(RepositoryName name, Digest subject,
                                                              Optional<String> artifactType) {
        throw new UnsupportedOperationException("listReferrers not scripted");
    }
}
