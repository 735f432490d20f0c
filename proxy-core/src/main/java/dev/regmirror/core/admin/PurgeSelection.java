package dev.regmirror.core.admin;

import dev.regmirror.core.reference.Digest;
import dev.regmirror.core.reference.Tag;
import dev.regmirror.core.upstream.Route;
import java.util.Objects;
import java.util.Optional;

/**
 * What a purge removes: one tag, one manifest, a repository, everything of one upstream, or the
 * whole cache. Routes are those of clients' pulls ({@code alpine:3} is
 * {@code docker.io/library/alpine:3}), so what an admin names matches what clients pulled.
 */
public sealed interface PurgeSelection {

    /** {@code ?image=ghcr.io/org/app:1.2}: one tag. */
    record OneTag(Route route, Tag tag) implements PurgeSelection {
        public OneTag {
            Objects.requireNonNull(route);
            Objects.requireNonNull(tag);
        }

        @Override
        public String toString() {
            return route + ":" + tag;
        }
    }

    /**
     * {@code ?image=ghcr.io/org/app@sha256:…}: one manifest, and the repository's tags pointing to
     * it. With a tag as well ({@code app:1.2@sha256:…}) the digest still decides what goes; the tag
     * is a check, and a tag pointing elsewhere matches nothing (404).
     */
    record OneManifest(Route route, Digest digest, Optional<Tag> tag) implements PurgeSelection {
        public OneManifest {
            Objects.requireNonNull(route);
            Objects.requireNonNull(digest);
            Objects.requireNonNull(tag);
        }

        public OneManifest(Route route, Digest digest) {
            this(route, digest, Optional.empty());
        }

        @Override
        public String toString() {
            return route + tag.map(t -> ":" + t).orElse("") + "@" + digest;
        }
    }

    /** {@code ?image=ghcr.io/org/app}: every tag of the repository. */
    record Repository(Route route) implements PurgeSelection {
        public Repository {
            Objects.requireNonNull(route);
        }

        @Override
        public String toString() {
            return route.toString();
        }
    }

    /** {@code ?upstream=ghcr.io}: every cached repository of that registry. */
    record Upstream(String registry) implements PurgeSelection {
        public Upstream {
            Objects.requireNonNull(registry);
        }

        @Override
        public String toString() {
            return "everything of " + registry;
        }
    }

    /** {@code ?all=true}: the whole cache, loose blobs and untagged manifests too. */
    record Everything() implements PurgeSelection {
        @Override
        public String toString() {
            return "everything";
        }
    }
}
