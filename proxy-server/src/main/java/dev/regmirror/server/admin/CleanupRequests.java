package dev.regmirror.server.admin;

import dev.regmirror.core.admin.PurgeSelection;
import dev.regmirror.core.error.InvalidRequestException;
import dev.regmirror.core.error.Printable;
import dev.regmirror.core.error.RegistryErrorCode;
import dev.regmirror.core.reference.ImageReference;
import dev.regmirror.core.upstream.Route;
import dev.regmirror.core.upstream.UpstreamRouter;
import io.netty.handler.codec.http.HttpMethod;
import java.util.List;
import java.util.Map;

/**
 * Decodes {@code DELETE /admin/cache} into {@link AdminRequest.Purge} and {@code POST /admin/prune}
 * into {@link AdminRequest.Prune}: another method is 405 UNSUPPORTED (with the right
 * {@code Allow}), a {@code dryRun} other than one {@code true} or {@code false} 400 NAME_INVALID,
 * and so is a parameter neither takes: a misspelt {@code ?dry-run=true} must not purge for real.
 * A purge's {@link PurgeSelection} comes from exactly one of {@code ?image=}, {@code ?upstream=} or
 * {@code ?all=true}; the image is an {@link ImageReference}, routed as a client's pull is: a name
 * alone is the whole repository.
 */
final class CleanupRequests {

    private CleanupRequests() {
    }

    static AdminRequest decode(String path, HttpMethod method, boolean keepAlive, Map<String, List<String>> query,
                               UpstreamRouter router) {
        boolean purge = path.equals("/admin/cache");
        HttpMethod allowed = purge ? HttpMethod.DELETE : HttpMethod.POST;
        if (!allowed.equals(method)) {
            throw new InvalidRequestException(RegistryErrorCode.UNSUPPORTED, method.name() + " " + path
                    + " is not supported (use " + allowed.name() + ")", null, Map.of("Allow", allowed.name()));
        }
        List<String> known = purge ? List.of("image", "upstream", "all", "dryRun") : List.of("dryRun");
        for (String name : query.keySet()) {
            if (!known.contains(name)) {
                throw invalid(method.name() + " " + path + " takes " + String.join(", ", known) + ", not \""
                        + Printable.of(name) + "\"");
            }
        }
        boolean dryRun = dryRun(query);
        return purge ? new AdminRequest.Purge(method, keepAlive, selection(query, router), dryRun)
                : new AdminRequest.Prune(method, keepAlive, dryRun);
    }

    private static boolean dryRun(Map<String, List<String>> query) {
        List<String> values = query.getOrDefault("dryRun", List.of());
        if (values.isEmpty()) {
            return false;
        }
        if (values.size() == 1 && (values.get(0).equals("true") || values.get(0).equals("false"))) {
            return values.get(0).equals("true");
        }
        throw new InvalidRequestException(RegistryErrorCode.NAME_INVALID, "dryRun must be true or false, not \""
                + Printable.of(String.join(",", values)) + "\"");
    }

    /**
     * Parses the query: exactly one selector (else 400 NAME_INVALID), a valid name (400
     * NAME_INVALID), tag (400 TAG_INVALID) or digest (400 DIGEST_INVALID), a configured registry
     * (404 NAME_UNKNOWN), not a hosted name (403 DENIED).
     */
    static PurgeSelection selection(Map<String, List<String>> query, UpstreamRouter router) {
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
            return new PurgeSelection.Everything();
        }
        if (!upstream.isEmpty()) {
            String registry = upstream.get(0);
            return new PurgeSelection.Upstream(router.upstreamNamed(registry).orElseThrow(
                    () -> new InvalidRequestException(RegistryErrorCode.NAME_UNKNOWN,
                            "no upstream is configured for registry \"" + Printable.of(registry) + "\"")).registry());
        }
        return notHosted(image(image.get(0), router));
    }

    /** A purge removes cached content only: a hosted image is 403 DENIED, deleted through the registry API instead. */
    private static PurgeSelection notHosted(PurgeSelection selection) {
        Route route = selection instanceof PurgeSelection.OneTag one ? one.route()
                : selection instanceof PurgeSelection.OneManifest one ? one.route()
                : selection instanceof PurgeSelection.Repository one ? one.route() : null;
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
            return new PurgeSelection.OneManifest(route, image.digest().get(), image.tag());
        }
        return image.tag().<PurgeSelection>map(tag -> new PurgeSelection.OneTag(route, tag))
                .orElseGet(() -> new PurgeSelection.Repository(route));
    }

    private static InvalidRequestException invalid(String message) {
        return new InvalidRequestException(RegistryErrorCode.NAME_INVALID, message);
    }
}
