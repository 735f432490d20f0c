package dev.regmirror.core.manifest;

import java.util.List;

/**
 * Manifest media types of Docker's
 * <a href="https://distribution.github.io/distribution/spec/manifest-v2-2/">image manifest v2
 * schema 2</a> and the <a href="https://github.com/opencontainers/image-spec/blob/main/media-types.md">
 * OCI image spec</a>.
 */
public final class MediaTypes {

    public static final String DOCKER_MANIFEST = "application/vnd.docker.distribution.manifest.v2+json";
    public static final String DOCKER_MANIFEST_LIST = "application/vnd.docker.distribution.manifest.list.v2+json";
    public static final String DOCKER_MANIFEST_V1_SIGNED = "application/vnd.docker.distribution.manifest.v1+prettyjws";
    public static final String DOCKER_MANIFEST_V1 = "application/vnd.docker.distribution.manifest.v1+json";
    public static final String OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json";
    public static final String OCI_INDEX = "application/vnd.oci.image.index.v1+json";

    /** Everything we ask an upstream for, so that we can store whatever it has. */
    public static final List<String> ACCEPT_ALL = List.of(
            OCI_INDEX, DOCKER_MANIFEST_LIST, OCI_MANIFEST, DOCKER_MANIFEST,
            DOCKER_MANIFEST_V1_SIGNED, DOCKER_MANIFEST_V1);

    /** The Accept header value for {@link #ACCEPT_ALL}. */
    public static final String ACCEPT_ALL_HEADER = String.join(", ", ACCEPT_ALL);

    private MediaTypes() {
    }

    public static boolean isIndex(String mediaType) {
        return OCI_INDEX.equals(mediaType) || DOCKER_MANIFEST_LIST.equals(mediaType);
    }

    /**
     * Whether a layer's media type is one registries let a manifest name without holding it: Docker's
     * foreign layers ({@code application/vnd.docker.image.rootfs.foreign.diff.tar.gzip}) and OCI's
     * non-distributable ones ({@code application/vnd.oci.image.layer.nondistributable.v1.tar...}).
     */
    public static boolean nonDistributable(String mediaType) {
        return mediaType != null && (mediaType.contains(".foreign.") || mediaType.contains(".nondistributable."));
    }

    /** Strips parameters and white space: {@code "a/b; charset=utf-8"} becomes {@code "a/b"}. */
    public static String essence(String contentType) {
        if (contentType == null) {
            return "";
        }
        int semi = contentType.indexOf(';');
        return (semi < 0 ? contentType : contentType.substring(0, semi)).trim().toLowerCase(java.util.Locale.ROOT);
    }
}
