package dev.regmirror.core.testing;

import dev.regmirror.core.manifest.Descriptor;
import dev.regmirror.core.reference.Digest;
import java.util.List;

/**
 * One image manifest that {@link TestImages} wrote: its descriptor (with the platform), its config
 * and its gzipped layers, and the layers' uncompressed digests ({@code rootfs.diff_ids}).
 */
public record BuiltManifest(Descriptor manifest, Descriptor config, List<Descriptor> layers, List<Digest> diffIds) {

    public BuiltManifest {
        layers = List.copyOf(layers);
        diffIds = List.copyOf(diffIds);
    }

    public Digest digest() {
        return manifest.digest();
    }

    /** The platform as {@code os/arch[/variant]}. */
    public String platform() {
        return manifest.platform().toString();
    }

    public List<Digest> layerDigests() {
        return layers.stream().map(Descriptor::digest).toList();
    }
}
