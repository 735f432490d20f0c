package dev.regmirror.core.client;

import java.util.List;
import java.util.Optional;

/**
 * One page of a repository's tags as the upstream listed them
 * (<a href="https://github.com/opencontainers/distribution-spec/blob/main/spec.md#listing-tags">listing
 * tags</a>), and where the next page starts if the upstream said there is one.
 *
 * @param tags the tags of this page, in the upstream's order
 * @param next the {@code last} value of the next page, from the upstream's {@code Link} header
 */
public record TagList(List<String> tags, Optional<String> next) {

    public TagList {
        tags = List.copyOf(tags);
    }
}
