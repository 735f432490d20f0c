package dev.regmirror.core.client;

import dev.regmirror.core.error.RegistryErrorCode;
import dev.regmirror.core.manifest.MediaTypes;
import dev.regmirror.core.reference.Digest;
import dev.regmirror.core.reference.Reference;
import dev.regmirror.core.reference.RepositoryName;
import java.net.URI;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.util.Objects;
import java.util.Optional;

/**
 * One thing asked of the upstream: the method, the path under {@code /v2/}, the Accept header, the
 * code a 404 means, and how messages name it ("pull manifest latest of library/alpine").
 */
record Fetch(String method, RepositoryName name, String path, Optional<String> accept, String what,
             RegistryErrorCode notFound) {

    Fetch {
        Objects.requireNonNull(method, "method");
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(path, "path");
        Objects.requireNonNull(accept, "accept");
        Objects.requireNonNull(what, "what");
        Objects.requireNonNull(notFound, "notFound");
    }

    static Fetch manifest(String method, RepositoryName name, Reference reference) {
        String shown = reference instanceof Digest digest ? digest.shortForm() : reference.toString();
        return new Fetch(method, name, "manifests/" + reference, Optional.of(MediaTypes.ACCEPT_ALL_HEADER),
                verb(method) + " manifest " + shown + " of " + name, RegistryErrorCode.MANIFEST_UNKNOWN);
    }

    static Fetch blob(String method, RepositoryName name, Digest digest) {
        return new Fetch(method, name, "blobs/" + digest, Optional.empty(),
                verb(method) + " blob " + digest.shortForm() + " of " + name, RegistryErrorCode.BLOB_UNKNOWN);
    }

    /** {@code GET /v2/<name>/tags/list}, with {@code n} and {@code last} where given. */
    static Fetch tags(RepositoryName name, java.util.OptionalInt n, Optional<String> last) {
        StringBuilder query = new StringBuilder();
        n.ifPresent(count -> query.append("n=").append(count));
        last.ifPresent(tag -> query.append(query.length() == 0 ? "" : "&").append("last=")
                .append(java.net.URLEncoder.encode(tag, java.nio.charset.StandardCharsets.UTF_8)));
        return new Fetch("GET", name, "tags/list" + (query.length() == 0 ? "" : "?" + query),
                Optional.of("application/json"), "list tags of " + name, RegistryErrorCode.NAME_UNKNOWN);
    }

    /** {@code GET /v2/<name>/referrers/<digest>}, with {@code artifactType} where given. */
    static Fetch referrers(RepositoryName name, Digest subject, Optional<String> artifactType) {
        String query = artifactType.map(type -> "?artifactType="
                + URLEncoder.encode(type, StandardCharsets.UTF_8)).orElse("");
        return new Fetch("GET", name, "referrers/" + subject + query,
                Optional.of(MediaTypes.OCI_INDEX + ", application/json"),
                "list referrers of " + subject.shortForm() + " in " + name, RegistryErrorCode.MANIFEST_UNKNOWN);
    }

    private static String verb(String method) {
        return "HEAD".equals(method) ? "check" : "pull";
    }

    /** Where the fetch starts: {@code {base}/v2/{name}/{path}}. */
    URI uri(URI base) {
        return URI.create(base + "/v2/" + name + "/" + path);
    }

    boolean isHead() {
        return "HEAD".equals(method);
    }
}
