package dev.regmirror.core.mirror;

import dev.regmirror.core.manifest.Descriptor;
import dev.regmirror.core.manifest.ManifestBytes;
import dev.regmirror.core.reference.Reference;
import dev.regmirror.core.upstream.Route;
import java.util.List;
import java.util.Objects;

/**
 * An image {@link Prefetch} brought into the cache: the manifest the reference named, the image
 * manifests taken from it (itself, for a single-platform image), and their distinct blobs.
 */
public record PulledImage(Route route, Reference reference, ManifestBytes top, List<ManifestBytes> manifests,
                          List<Descriptor> blobs) {

    public PulledImage {
        Objects.requireNonNull(route, "route");
        Objects.requireNonNull(reference, "reference");
        Objects.requireNonNull(top, "top");
        manifests = List.copyOf(manifests);
        blobs = List.copyOf(blobs);
    }
}
