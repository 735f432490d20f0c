package dev.regmirror.core.testing;

import dev.regmirror.core.manifest.MediaTypes;

/**
 * The media types {@link TestImages} writes: OCI (<a href="https://github.com/opencontainers/image-spec/blob/main/media-types.md">image
 * spec media types</a>) or Docker's <a href="https://distribution.github.io/distribution/spec/manifest-v2-2/">image
 * manifest v2 schema 2</a>.
 */
public enum ImageFormat {
    OCI(MediaTypes.OCI_INDEX, MediaTypes.OCI_MANIFEST,
            "application/vnd.oci.image.config.v1+json", "application/vnd.oci.image.layer.v1.tar+gzip"),
    DOCKER_V2S2(MediaTypes.DOCKER_MANIFEST_LIST, MediaTypes.DOCKER_MANIFEST,
            "application/vnd.docker.container.image.v1+json", "application/vnd.docker.image.rootfs.diff.tar.gzip");

    private final String indexType;
    private final String manifestType;
    private final String configType;
    private final String layerType;

    ImageFormat(String indexType, String manifestType, String configType, String layerType) {
        this.indexType = indexType;
        this.manifestType = manifestType;
        this.configType = configType;
        this.layerType = layerType;
    }

    public String indexType() {
        return indexType;
    }

    public String manifestType() {
        return manifestType;
    }

    public String configType() {
        return configType;
    }

    public String layerType() {
        return layerType;
    }
}
