package dev.regmirror.core.client;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.regmirror.core.error.Printable;
import dev.regmirror.core.error.ProxyException;
import java.io.IOException;
import java.net.URI;
import java.net.URLDecoder;
import java.net.http.HttpHeaders;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Optional;
import java.util.function.Function;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Reads an upstream's tag list: the {@code {"name","tags"}} body and the {@code last} of the next
 * page from its {@code Link: <...?last=x&n=y>; rel="next"} header.
 */
final class TagLists {

    /** Tag lists are small, but a repository may have thousands of tags. */
    static final int MAX_BODY = 8 * 1024 * 1024;

    private static final ObjectMapper MAPPER = new ObjectMapper()
            .configure(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES, false);
    private static final Pattern NEXT = Pattern.compile("<([^>]*)>\\s*;\\s*rel=\"?next\"?");

    private TagLists() {
    }

    @JsonIgnoreProperties(ignoreUnknown = true)
    record TagListJson(String name, List<String> tags) {
    }

    /**
     * The page the body and headers describe; fails with {@code invalid} when the body is not a tag
     * list or the next-page link is not a URL.
     */
    static TagList parse(byte[] body, HttpHeaders headers, Function<String, ProxyException> invalid) {
        TagListJson json;
        try {
            json = MAPPER.readValue(body, TagListJson.class);
        } catch (IOException e) {
            throw invalid.apply("the tag list is not JSON: " + e.getMessage().lines().findFirst().orElse(""));
        }
        if (json == null || (json.tags() != null && json.tags().contains(null))) {
            throw invalid.apply("the tag list is not a {\"name\",\"tags\":[...]} object of tags");
        }
        List<String> tags = json.tags() == null ? List.of() : json.tags();
        Optional<String> next = Optional.empty();
        for (String link : headers.allValues("Link")) {
            try {
                next = nextLast(link);
            } catch (IllegalArgumentException e) {
                throw invalid.apply("the Link header \"" + Printable.of(link) + "\" holds no usable URL");
            }
            if (next.isPresent()) {
                break;
            }
        }
        return new TagList(tags, next);
    }

    /**
     * The {@code last} parameter of a {@code rel="next"} link, if this is one.
     *
     * @throws IllegalArgumentException if the link's URL is malformed
     */
    static Optional<String> nextLast(String link) {
        Matcher matcher = NEXT.matcher(link);
        if (!matcher.find()) {
            return Optional.empty();
        }
        String query = URI.create(matcher.group(1).trim().replace(" ", "%20")).getRawQuery();
        if (query == null) {
            return Optional.empty();
        }
        for (String parameter : query.split("&")) {
            if (parameter.startsWith("last=")) {
                return Optional.of(URLDecoder.decode(parameter.substring(5), StandardCharsets.UTF_8));
            }
        }
        return Optional.empty();
    }
}
