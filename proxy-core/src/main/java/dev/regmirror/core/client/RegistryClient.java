package dev.regmirror.core.client;

import dev.regmirror.core.manifest.ManifestBytes;
import dev.regmirror.core.reference.Digest;
import dev.regmirror.core.reference.Reference;
import dev.regmirror.core.reference.RepositoryName;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.concurrent.CompletableFuture;

/**
 * Reads manifests and blobs from one upstream registry over the
 * <a href="https://github.com/opencontainers/distribution-spec/blob/main/spec.md#pull">distribution
 * spec's pull API</a>, handling its authentication and redirects.
 *
 * <p>Every future fails with a {@link dev.regmirror.core.error.ProxyException}: an
 * {@link dev.regmirror.core.error.UpstreamErrorException} when the upstream answered with an error,
 * an {@link dev.regmirror.core.error.UpstreamUnavailableException} when it could not be reached or
 * timed out. Names passed in are already in the upstream's own naming.
 */
public interface RegistryClient {

    /** The registry this client talks to, such as {@code docker.io}. */
    String registry();

    /** HEAD of a manifest: its digest (where the upstream says it), media type and size. */
    CompletableFuture<ManifestHead> headManifest(RepositoryName name, Reference reference);

    /** The manifest's bytes, asked for with every manifest media type we know. */
    CompletableFuture<ManifestBytes> getManifest(RepositoryName name, Reference reference);

    /** HEAD of a blob: its size. */
    CompletableFuture<BlobHead> headBlob(RepositoryName name, Digest digest);

    /**
     * Starts a blob download; the future completes once the upstream answered 200 (after following
     * redirects), and the body then streams with back-pressure to whoever subscribes.
     */
    CompletableFuture<BlobBody> getBlob(RepositoryName name, Digest digest);

    /**
     * One page of the repository's tags: at most {@code n} (where given) after {@code last}
     * (where given), as {@code GET /v2/<name>/tags/list?n=&last=} answers.
     */
    CompletableFuture<TagList> listTags(RepositoryName name, OptionalInt n, Optional<String> last);

    /**
     * The manifests that refer to {@code subject} in the repository, filtered by {@code artifactType}
     * where the upstream can: its referrers API's answer, else (the API answered 404) the image index
     * tagged under the referrers tag schema, else {@link UpstreamReferrers.None}.
     */
    CompletableFuture<UpstreamReferrers> listReferrers(RepositoryName name, Digest subject,
                                                       Optional<String> artifactType);
}
