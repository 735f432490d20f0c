package dev.regmirror.core.reference;

import dev.regmirror.core.error.InvalidRequestException;
import dev.regmirror.core.error.Printable;
import dev.regmirror.core.error.RegistryErrorCode;
import java.util.Objects;
import java.util.Optional;
import java.util.regex.Pattern;

/**
 * An image as people write it, {@code [registry/]repository[:tag][@digest]} ({@code alpine},
 * {@code ghcr.io/org/app:1.2}, {@code [::1]:5000/app@sha256:…}), parsed as Docker's
 * <a href="https://github.com/distribution/reference/blob/main/reference.go">reference grammar</a>
 * does: the first component is a registry when it has a dot or a port, is {@code localhost}, or is
 * a bracketed IPv6 address (a name that is only a registry, {@code ghcr.io}, is refused, as
 * {@code UpstreamRouter} refuses it); a tag follows the last {@code :} after the last {@code /}.
 * The name is kept as written; {@code UpstreamRouter} decides where it goes ({@code alpine} to
 * docker.io's {@code library/alpine}). {@link #toString()} is the canonical form, which
 * {@link #parse} reads back to an equal reference. With both a tag and a digest the digest decides
 * what is fetched and the tag is only recorded, as for {@code docker pull}; a contradiction an
 * operation can see is refused, never guessed at (a purge whose cached tag points elsewhere, an
 * archive naming a manifest with another's digest): docs/cli.md, "Image references".
 */
public record ImageReference(Optional<String> registry, RepositoryName repository, Optional<Tag> tag,
                             Optional<Digest> digest) {

    private static final String LABEL = "[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?";
    private static final Pattern HOST = Pattern.compile(
            "(?:" + LABEL + "(?:\\." + LABEL + ")*|\\[[0-9A-Fa-f:.]+\\])(?::([0-9]{1,5}))?");
    private static final int MAX_NAME_LENGTH = 255;
    private static final Tag LATEST = new Tag("latest");

    public ImageReference {
        Objects.requireNonNull(registry, "registry");
        Objects.requireNonNull(repository, "repository");
        Objects.requireNonNull(tag, "tag");
        Objects.requireNonNull(digest, "digest");
        String problem = nameProblem(registry, repository.value());
        if (problem != null) {
            throw new InvalidRequestException(RegistryErrorCode.NAME_INVALID, problem);
        }
    }

    /**
     * What is wrong with a name, or null: a registry that is no host, a bad repository, a repository
     * that would read back as a registry and a repository, or more than 255 characters together.
     */
    private static String nameProblem(Optional<String> registry, String repository) {
        if (registry.isPresent() && !isRegistry(registry.get())) {
            return "invalid registry \"" + Printable.of(registry.get()) + "\": a host name with a dot or a port, "
                    + "localhost, or [IPv6], with an optional :port (1-65535)";
        }
        String problem = RepositoryName.problemWith(repository);
        if (problem != null) {
            return "invalid repository name \"" + Printable.of(repository) + "\": " + problem;
        }
        if (registry.isEmpty() && namesRegistry(repository.split("/", 2)[0])) {
            return "\"" + Printable.of(repository) + "\" would be read as a registry and a repository in it";
        }
        if (registry.map(r -> r.length() + 1).orElse(0) + repository.length() > MAX_NAME_LENGTH) {
            return "the name is longer than " + MAX_NAME_LENGTH + " characters, registry included";
        }
        return null;
    }

    /**
     * Parses {@code [registry/]repository[:tag][@digest]}, adding nothing (see {@link #withDefaultTag()}).
     * A bad name or registry is NAME_INVALID, a bad tag TAG_INVALID, a bad digest DIGEST_INVALID (all 400).
     */
    public static ImageReference parse(String image) {
        if (image == null || image.isEmpty()) {
            throw new InvalidRequestException(RegistryErrorCode.NAME_INVALID, "no image named");
        }
        String rest = image;
        Optional<Digest> digest = Optional.empty();
        int at = rest.indexOf('@');
        if (at >= 0) {
            try {
                digest = Optional.of(Digest.parse(rest.substring(at + 1)));
            } catch (InvalidRequestException e) {
                throw new InvalidRequestException(RegistryErrorCode.DIGEST_INVALID, "\"" + Printable.of(image)
                        + "\": invalid digest \"" + Printable.of(rest.substring(at + 1))
                        + "\": sha256:<64 hex> or sha512:<128 hex>, lower case");
            }
            rest = rest.substring(0, at);
        }
        Optional<Tag> tag = Optional.empty();
        int colon = rest.lastIndexOf(':');
        if (colon > rest.lastIndexOf('/') && colon > rest.lastIndexOf(']')) {
            String value = rest.substring(colon + 1);
            if (!Tag.isValid(value)) {
                throw new InvalidRequestException(RegistryErrorCode.TAG_INVALID, "\"" + Printable.of(image)
                        + "\": invalid tag \"" + Printable.of(value)
                        + "\": letters, digits, '_', '.' and '-', not starting with '.' or '-', at most 128");
            }
            tag = Optional.of(new Tag(value));
            rest = rest.substring(0, colon);
        }
        Optional<String> registry = Optional.empty();
        int slash = rest.indexOf('/');
        String first = slash < 0 ? rest : rest.substring(0, slash);
        if (namesRegistry(first)) {
            if (slash < 0) {
                throw new InvalidRequestException(RegistryErrorCode.NAME_INVALID, "\"" + Printable.of(image)
                        + "\": names a registry but no repository in it");
            }
            registry = Optional.of(first);
            rest = rest.substring(slash + 1);
        }
        String problem = nameProblem(registry, rest);
        if (problem != null) {
            throw new InvalidRequestException(RegistryErrorCode.NAME_INVALID,
                    "\"" + Printable.of(image) + "\": " + problem);
        }
        return new ImageReference(registry, new RepositoryName(rest), tag, digest);
    }

    /**
     * Whether a name's first component stands for a registry rather than a repository path, as
     * Docker decides it: it has a dot or a port, is {@code localhost}, or is a bracketed IPv6
     * address. Such a component that is no valid host ({@code a..b}) is still meant as one, and
     * refused, never taken as a repository path.
     */
    public static boolean namesRegistry(String component) {
        return component.indexOf('.') >= 0 || component.indexOf(':') >= 0 || component.startsWith("[")
                || component.equals("localhost");
    }

    /** Whether the value is a valid registry: a host and optional port ({@code localhost:5000}, {@code [::1]:5000}). */
    public static boolean isRegistry(String value) {
        if (value == null || !namesRegistry(value)) {
            return false;
        }
        var matcher = HOST.matcher(value);
        if (!matcher.matches()) {
            return false;
        }
        String port = matcher.group(1);
        return port == null || (Integer.parseInt(port) >= 1 && Integer.parseInt(port) <= 65535);
    }

    /** The name as written, registry included: {@code ghcr.io/org/app}, or {@code alpine}. */
    public String name() {
        return registry.map(r -> r + "/").orElse("") + repository;
    }

    /**
     * What a registry is asked for: the digest when there is one (a tag beside it only recorded),
     * else the tag, else {@code latest}.
     */
    public Reference reference() {
        if (digest.isPresent()) {
            return digest.get();
        }
        return tag.isPresent() ? tag.get() : LATEST;
    }

    /** This reference, tagged {@code latest} when it has neither a tag nor a digest ({@code docker pull alpine}). */
    public ImageReference withDefaultTag() {
        return tag.isEmpty() && digest.isEmpty() ? new ImageReference(registry, repository, Optional.of(LATEST), digest)
                : this;
    }

    /** The canonical form, which {@link #parse} reads back: {@code [registry/]repository[:tag][@digest]}. */
    @Override
    public String toString() {
        return name() + tag.map(t -> ":" + t).orElse("") + digest.map(d -> "@" + d).orElse("");
    }
}
