package dev.regmirror.cli;

import dev.regmirror.core.reference.Digest;
import dev.regmirror.core.reference.Tag;
import java.util.Optional;
import java.util.regex.Pattern;

/**
 * An image as a user names it on the command line, {@code name[:tag][@digest]}, as Docker parses
 * it: a tag follows the last {@code :} after the last {@code /}; no tag and no digest means
 * {@code latest}. The name stays as written; the mirror routes it ({@code alpine} to docker.io).
 */
record ImageReference(String name, Optional<Tag> tag, Optional<Digest> digest) {

    /** Lower-case path components with separators, an optional registry host with port in front. */
    private static final Pattern NAME = Pattern.compile(
            "([A-Za-z0-9]([A-Za-z0-9.-]*[A-Za-z0-9])?(:[0-9]+)?/)?[a-z0-9]+([._-][a-z0-9]+)*(/[a-z0-9]+([._-][a-z0-9]+)*)*");

    ImageReference {
        if (!NAME.matcher(name).matches()) {
            throw new IllegalArgumentException("not an image name: " + name);
        }
        if (tag.isEmpty() && digest.isEmpty()) {
            throw new IllegalArgumentException("an image needs a tag or a digest");
        }
    }

    static ImageReference parse(String value) {
        String rest = value;
        Optional<Digest> digest = Optional.empty();
        int at = rest.indexOf('@');
        if (at >= 0) {
            digest = Optional.of(parseDigest(rest.substring(at + 1)));
            rest = rest.substring(0, at);
        }
        Optional<Tag> tag = Optional.empty();
        int colon = rest.lastIndexOf(':');
        if (colon > rest.lastIndexOf('/')) {
            try {
                tag = Optional.of(new Tag(rest.substring(colon + 1)));
            } catch (RuntimeException e) {
                throw new IllegalArgumentException("not a tag: " + rest.substring(colon + 1));
            }
            rest = rest.substring(0, colon);
        }
        if (tag.isEmpty() && digest.isEmpty()) {
            tag = Optional.of(new Tag("latest"));
        }
        return new ImageReference(rest, tag, digest);
    }

    private static Digest parseDigest(String value) {
        try {
            return Digest.parse(value);
        } catch (RuntimeException e) {
            throw new IllegalArgumentException("not a digest: " + value);
        }
    }

    /** What to ask the registry for: the digest if there is one, else the tag. */
    String reference() {
        return digest.map(Digest::toString).orElseGet(() -> tag.orElseThrow().value());
    }

    @Override
    public String toString() {
        return name + tag.map(t -> ":" + t.value()).orElse("") + digest.map(d -> "@" + d).orElse("");
    }
}
