package dev.regmirror.core.manifest;

import dev.regmirror.core.error.InvalidRequestException;
import dev.regmirror.core.error.RegistryErrorCode;
import dev.regmirror.core.reference.Digest;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;

/**
 * Decides what to answer when a client's Accept header may not take the cached manifest's media
 * type, following the distribution registry's {@code GetManifest}: OCI manifests and indexes need
 * their type accepted (else MANIFEST_UNKNOWN); a Docker manifest list asked for by tag by a client
 * that does not take lists is answered with its linux/amd64 manifest; anything else is served.
 * Never answers with another digest's bytes under the digest the client asked for.
 */
public final class AcceptNegotiation {

    private final Set<String> accepted;

    private AcceptNegotiation(Set<String> accepted) {
        this.accepted = accepted;
    }

    /** Parses the values of every Accept header of a request (comma-separated, parameters ignored). */
    public static AcceptNegotiation of(List<String> acceptHeaders) {
        Set<String> types = new HashSet<>();
        for (String header : acceptHeaders) {
            for (String part : header.split(",")) {
                String essence = MediaTypes.essence(part);
                if (!essence.isEmpty()) {
                    types.add(essence.toLowerCase(Locale.ROOT));
                }
            }
        }
        return new AcceptNegotiation(types);
    }

    /** What to do with this manifest: serve it, or serve one of its children instead. */
    public Decision decide(ManifestBytes manifest, boolean requestedByTag) {
        String type = manifest.mediaType();
        if (MediaTypes.OCI_MANIFEST.equals(type) && !accepts(type)) {
            throw unknown("OCI manifest found, but accept header does not support OCI manifests");
        }
        if (MediaTypes.OCI_INDEX.equals(type) && !accepts(type)) {
            throw unknown("OCI index found, but accept header does not support OCI indexes");
        }
        if (MediaTypes.DOCKER_MANIFEST_LIST.equals(type) && requestedByTag && !accepts(type)) {
            for (Descriptor entry : Manifests.indexEntries(manifest.bytes())) {
                Descriptor.Platform p = entry.platform();
                if (p != null && "linux".equals(p.os()) && "amd64".equals(p.architecture())) {
                    return new Decision.ServeChild(entry.digest());
                }
            }
            throw unknown("manifest list found, but accept header does not support manifest lists"
                    + " and the list has no linux/amd64 manifest");
        }
        return new Decision.Serve(manifest);
    }

    /** Checks the child chosen from a manifest list: a client that takes no schema 2 cannot have it. */
    public void checkChild(ManifestBytes child) {
        if (MediaTypes.DOCKER_MANIFEST.equals(child.mediaType()) && !accepts(child.mediaType())) {
            throw new InvalidRequestException(RegistryErrorCode.MANIFEST_INVALID,
                    "Schema 2 manifest not supported by client");
        }
    }

    private boolean accepts(String type) {
        return accepted.contains(type);
    }

    private static InvalidRequestException unknown(String message) {
        return new InvalidRequestException(RegistryErrorCode.MANIFEST_UNKNOWN, message);
    }

    /** The outcome of negotiation. */
    public sealed interface Decision {

        /** Serve this manifest as it is. */
        record Serve(ManifestBytes manifest) implements Decision {
        }

        /** Serve the manifest list's entry with this digest instead. */
        record ServeChild(Digest digest) implements Decision {
        }
    }
}
