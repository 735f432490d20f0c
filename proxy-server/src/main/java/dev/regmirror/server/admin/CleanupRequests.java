package dev.regmirror.server.admin;

import dev.regmirror.core.error.InvalidRequestException;
import dev.regmirror.core.error.Printable;
import dev.regmirror.core.error.RegistryErrorCode;
import dev.regmirror.core.upstream.UpstreamRouter;
import io.netty.handler.codec.http.HttpMethod;
import java.util.List;
import java.util.Map;

/**
 * Decodes {@code DELETE /admin/cache} into {@link AdminRequest.Purge} and {@code POST /admin/prune}
 * into {@link AdminRequest.Prune}: another method is 405 UNSUPPORTED (with the right
 * {@code Allow}), a {@code dryRun} other than one {@code true} or {@code false} 400 NAME_INVALID.
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
        boolean dryRun = dryRun(query);
        return purge ? new AdminRequest.Purge(method, keepAlive, PurgeSelection.parse(query, router), dryRun)
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
}
