package dev.regmirror.core.manifest;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import java.util.List;

/** The wire shape of a manifest or index, as much of it as regmirror reads. */
@JsonIgnoreProperties(ignoreUnknown = true)
record ManifestJson(Integer schemaVersion, String mediaType, DescriptorJson config,
                    List<DescriptorJson> layers, List<DescriptorJson> manifests) {

    @JsonIgnoreProperties(ignoreUnknown = true)
    record DescriptorJson(String mediaType, String digest, Long size, PlatformJson platform, List<String> urls) {
    }

    @JsonIgnoreProperties(ignoreUnknown = true)
    record PlatformJson(String os, String architecture, String variant) {
    }
}
