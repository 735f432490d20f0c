package dev.regmirror.server.pipeline;

import dev.regmirror.core.error.InvalidRequestException;
import dev.regmirror.core.error.RegistryErrorCode;
import io.netty.handler.codec.http.QueryStringDecoder;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalInt;

/**
 * A request's target as the decoders read it: the path as sent (never decoded, so no encoded slash
 * or dot reaches routing or the file system) and the decoded query parameters. A malformed
 * percent-escape in the query is {@code 400 PARAMETER_INVALID}, answered like any bad request.
 */
public record RequestTarget(String rawPath, Map<String, List<String>> parameters) {

    public RequestTarget {
        parameters = Map.copyOf(parameters);
    }

    /** Splits and decodes {@code uri} (a request line's target). */
    public static RequestTarget parse(String uri) {
        QueryStringDecoder decoder = new QueryStringDecoder(uri);
        try {
            return new RequestTarget(decoder.rawPath(), decoder.parameters());
        } catch (IllegalArgumentException e) {
            throw new InvalidRequestException(RegistryErrorCode.PARAMETER_INVALID,
                    "the query of " + decoder.rawPath() + " is not validly percent-encoded");
        }
    }

    /** Only the path as sent; cheap, and never fails. */
    public static String rawPathOf(String uri) {
        return new QueryStringDecoder(uri).rawPath();
    }

    /** The first value of a parameter, empty when absent or empty. */
    public Optional<String> parameter(String name) {
        List<String> values = parameters.get(name);
        return values == null || values.isEmpty() || values.get(0).isEmpty() ? Optional.empty()
                : Optional.of(values.get(0));
    }

    /**
     * The page size {@code n}, empty when not given.
     *
     * @throws InvalidRequestException PAGINATION_NUMBER_INVALID unless a whole number from 0 to {@code max}
     */
    public OptionalInt pageSize(int max) {
        Optional<String> n = parameter("n");
        if (n.isEmpty()) {
            return OptionalInt.empty();
        }
        try {
            int value = Integer.parseInt(n.get());
            if (value < 0 || value > max) {
                throw new NumberFormatException();
            }
            return OptionalInt.of(value);
        } catch (NumberFormatException e) {
            throw new InvalidRequestException(RegistryErrorCode.PAGINATION_NUMBER_INVALID,
                    "n must be a whole number from 0 to " + max);
        }
    }
}
