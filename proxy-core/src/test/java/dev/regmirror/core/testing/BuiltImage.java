package dev.regmirror.core.testing;

import dev.regmirror.core.manifest.Descriptor;
import dev.regmirror.core.manifest.MediaTypes;
import dev.regmirror.core.reference.Digest;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.NoSuchElementException;

/**
 * A tagged image that {@link TestImages} wrote, readable by skopeo as {@link #source()}: a single
 * manifest, or an index ({@code top}) of one manifest per platform.
 *
 * @param source the skopeo reference, {@code oci:<layout>:<tag>} or {@code dir:<dir>/<tag>}
 */
public record BuiltImage(String source, String tag, Descriptor top, List<BuiltManifest> manifests) {

    public BuiltImage {
        manifests = List.copyOf(manifests);
    }

    /** The digest a registry serves for the tag: the index's, or the single manifest's. */
    public Digest digest() {
        return top.digest();
    }

    public boolean isIndex() {
        return MediaTypes.isIndex(top.mediaType());
    }

    /** The only manifest of a single-platform image. */
    public BuiltManifest manifest() {
        if (isIndex()) {
            throw new IllegalStateException(tag + " is an index of " + manifests.size() + " manifests");
        }
        return manifests.get(0);
    }

    /** The manifest for {@code os/arch[/variant]}. */
    public BuiltManifest manifestFor(String platform) {
        return manifests.stream().filter(m -> m.platform().equals(platform)).findFirst()
                .orElseThrow(() -> new NoSuchElementException(tag + " has no manifest for " + platform));
    }

    /** Every distinct config and layer blob, in manifest order. */
    public List<Descriptor> blobs() {
        Map<Digest, Descriptor> blobs = new LinkedHashMap<>();
        for (BuiltManifest m : manifests) {
            blobs.putIfAbsent(m.config().digest(), m.config());
            m.layers().forEach(layer -> blobs.putIfAbsent(layer.digest(), layer));
        }
        return new ArrayList<>(blobs.values());
    }

    /** Every distinct layer blob, in manifest order. */
    public List<Descriptor> layers() {
        Map<Digest, Descriptor> layers = new LinkedHashMap<>();
        manifests.forEach(m -> m.layers().forEach(layer -> layers.putIfAbsent(layer.digest(), layer)));
        return new ArrayList<>(layers.values());
    }
}
