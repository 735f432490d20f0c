package dev.regmirror.server.admin;

import dev.regmirror.core.error.InvalidRequestException;
import dev.regmirror.core.error.Printable;
import dev.regmirror.core.error.RegistryErrorCode;
import dev.regmirror.core.reference.Digest;
import dev.regmirror.core.reference.ImageReference;
import dev.regmirror.core.reference.Tag;
import dev.regmirror.core.upstream.Route;
import dev.regmirror.core.upstream.UpstreamRouter;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;

/**
 * What {@code DELETE /admin/cache} removes, parsed from exactly one of {@code ?image=},
 * {@code ?upstream=} or {@code ?all=true}. Image names are routed as a client's pull is
 * ({@code alpine:3} is {@code docker.io/library/alpine:3}), so what an admin types matches what
 * clients pulled. The image is an {@link ImageReference}: a name alone is the whole repository.
 */
sealed interface PurgeSelection {

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

        OneManifest(Route route, Digest digest) {
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

    /**
     * Parses the query: exactly one selector (else 400 NAME_INVALID), a valid name (400
     * NAME_INVALID), tag (400 TAG_INVALID) or digest (400 DIGEST_INVALID), a configured registry
     * (404 NAME_UNKNOWN), not a hosted name (403 DENIED).
     */
    static PurgeSelection parse(Map<String, List<String>> query, UpstreamRouter router) {
        List<String> image = query.getOrDefault("image", List.of());
        List<String> upstream = query.getOrDefault("upstream", List.of());
        List<String> all = query.getOrDefault("all", List.of());
        int given = (image.isEmpty() ? 0 : 1) + (upstream.isEmpty() ? 0 : 1) + (all.isEmpty() ? 0 : 1);
        if (given != 1 || image.size() + upstream.size() + all.size() != 1) {
            throw invalid("DELETE /admin/cache needs exactly one of ?image=<name>[:<tag>][@<digest>], "
                    + "?upstream=<registry> or ?all=true");
        }
        if (!all.isEmpty()) {
            if (!all.get(0).equals("true")) {
                throw invalid("all must be true (to purge everything), not \"" + Printable.of(all.get(0)) + "\"");
            }
            return new Everything();
        }
        if (!upstream.isEmpty()) {
            String registry = upstream.get(0);
            return new Upstream(router.upstreamNamed(registry).orElseThrow(() -> new InvalidRequestException(
                    RegistryErrorCode.NAME_UNKNOWN, "no upstream is configured for registry \""
                    + Printable.of(registry) + "\"")).registry());
        }
        return notHosted(image(image.get(0), router));
    }

    /** A purge removes cached content only: a hosted image is 403 DENIED, deleted through the registry API instead. */
    private static PurgeSelection notHosted(PurgeSelection selection) {
        Route route = selection instanceof OneTag one ? one.route()
                : selection instanceof OneManifest one ? one.route()
                : selection instanceof Repository one ? one.route() : null;
        if (route != null && route.hosted()) {
            throw new InvalidRequestException(RegistryErrorCode.DENIED, route + " is hosted, not cached: a purge "
                    + "never removes it; delete its manifests or tags with DELETE /v2/" + route.name()
                    + "/manifests/<reference>, then prune");
        }
        return selection;
    }

    private static PurgeSelection image(String value, UpstreamRouter router) {
        ImageReference image = ImageReference.parse(value);
        Route route = router.route(image);
        if (image.digest().isPresent()) {
            return new OneManifest(route, image.digest().get(), image.tag());
        }
        return image.tag().<PurgeSelection>map(tag -> new OneTag(route, tag)).orElseGet(() -> new Repository(route));
    }

    private static InvalidRequestException invalid(String message) {
        return new InvalidRequestException(RegistryErrorCode.NAME_INVALID, message);
    }
}
