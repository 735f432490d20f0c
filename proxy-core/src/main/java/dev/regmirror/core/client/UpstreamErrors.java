package dev.regmirror.core.client;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.regmirror.core.error.Printable;
import dev.regmirror.core.error.RegistryErrorCode;
import dev.regmirror.core.error.UpstreamErrorException;
import dev.regmirror.core.upstream.EndpointSettings;
import java.io.IOException;
import java.net.http.HttpHeaders;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * Maps an upstream's error answer to an {@link UpstreamErrorException}: the code from its
 * <a href="https://github.com/opencontainers/distribution-spec/blob/main/spec.md#error-codes">error
 * body</a> where that agrees with the status, else the status's own meaning; a 5xx is always
 * UPSTREAM_ERROR, and a 404 always stays a "not found".
 */
final class UpstreamErrors {

    /** The most of an error body that is read. */
    static final int MAX_BODY = 64 * 1024;

    /** Headers a client needs to back off; {@code docker-ratelimit-source} (an IP) never goes on. */
    private static final List<String> PASSED_HEADERS = List.of("Retry-After", "RateLimit-Limit", "RateLimit-Remaining");
    /** Codes only regmirror itself answers with; an upstream sending one is sending an unknown code. */
    private static final Set<RegistryErrorCode> MIRROR_OWN = Set.of(RegistryErrorCode.UPSTREAM_ERROR,
            RegistryErrorCode.UNAVAILABLE, RegistryErrorCode.NOT_FOUND, RegistryErrorCode.BODY_INVALID,
            RegistryErrorCode.PLATFORM_INVALID, RegistryErrorCode.JOB_UNKNOWN, RegistryErrorCode.REQUEST_TIMEOUT,
            RegistryErrorCode.URI_TOO_LONG, RegistryErrorCode.HEADERS_TOO_LARGE, RegistryErrorCode.PARAMETER_INVALID,
            RegistryErrorCode.BODY_TOO_LARGE, RegistryErrorCode.EXPECTATION_FAILED);
    private static final ObjectMapper MAPPER = new ObjectMapper();

    private final EndpointSettings settings;
    private final Failures failures;

    UpstreamErrors(EndpointSettings settings, Failures failures) {
        this.settings = settings;
        this.failures = failures;
    }

    /** The exception for an error status; the body (absent for HEAD) may refine the code. */
    UpstreamErrorException from(Fetch fetch, int status, HttpHeaders headers, Optional<byte[]> body) {
        Optional<ErrorJson.Entry> entry = body.flatMap(UpstreamErrors::firstError);
        RegistryErrorCode byStatus = byStatus(status, fetch.notFound());
        RegistryErrorCode code = entry.map(e -> chooseCode(status, byStatus, e.code())).orElse(byStatus);
        String problem = "upstream answered " + status + entry.map(e -> " " + Printable.of(e.code())
                + (e.message() == null ? "" : ": " + Printable.of(e.message()))).orElse("");
        return new UpstreamErrorException(code, failures.attempt(fetch.what()) + ": " + problem,
                entry.map(ErrorJson.Entry::detail).orElse(null), settings.registry(), status, passed(headers));
    }

    /** A token realm's refusal, mapped by status alone. */
    UpstreamErrorException fromRealm(String what, int status, HttpHeaders headers) {
        return new UpstreamErrorException(byStatus(status, RegistryErrorCode.UPSTREAM_ERROR),
                failures.attempt(what) + ": token realm answered " + status, null, settings.registry(), status,
                passed(headers));
    }

    private static RegistryErrorCode byStatus(int status, RegistryErrorCode notFound) {
        return switch (status) {
            case 401 -> RegistryErrorCode.UNAUTHORIZED;
            case 403 -> RegistryErrorCode.DENIED;
            case 404 -> notFound;
            case 429 -> RegistryErrorCode.TOOMANYREQUESTS;
            default -> RegistryErrorCode.UPSTREAM_ERROR;
        };
    }

    private static RegistryErrorCode chooseCode(int status, RegistryErrorCode byStatus, String wire) {
        RegistryErrorCode code = RegistryErrorCode.fromWire(wire);
        if (MIRROR_OWN.contains(code)) {
            code = RegistryErrorCode.UNKNOWN;
        }
        if (status >= 500) {
            return RegistryErrorCode.UPSTREAM_ERROR;
        }
        if (status == 401 || status == 403 || status == 404 || status == 429) {
            return code.status() == status ? code : byStatus;
        }
        return status >= 400 ? code : byStatus;
    }

    private static Map<String, String> passed(HttpHeaders headers) {
        Map<String, String> out = new LinkedHashMap<>();
        for (String name : PASSED_HEADERS) {
            headers.firstValue(name).ifPresent(value -> out.put(name, Printable.of(value)));
        }
        return out;
    }

    private static Optional<ErrorJson.Entry> firstError(byte[] body) {
        try {
            ErrorJson json = MAPPER.readValue(body, ErrorJson.class);
            return json.errors() == null ? Optional.empty()
                    : json.errors().stream().filter(e -> e != null && e.code() != null).findFirst();
        } catch (IOException | RuntimeException e) {
            return Optional.empty();
        }
    }

    /** The registry error body: {@code {"errors":[{"code","message","detail"}]}}. */
    @JsonIgnoreProperties(ignoreUnknown = true)
    record ErrorJson(List<Entry> errors) {

        @JsonIgnoreProperties(ignoreUnknown = true)
        record Entry(String code, String message, Object detail) {
        }
    }
}
