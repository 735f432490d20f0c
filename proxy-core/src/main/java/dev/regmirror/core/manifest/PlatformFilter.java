package dev.regmirror.core.manifest;

import dev.regmirror.core.error.InvalidRequestException;
import dev.regmirror.core.error.Printable;
import dev.regmirror.core.error.RegistryErrorCode;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
import java.util.regex.Pattern;

/**
 * Which entries of an index to take: those whose platform is one of {@code os/architecture[/variant]}
 * (as in the <a href="https://github.com/opencontainers/image-spec/blob/main/image-index.md">OCI
 * image index</a>), or every entry when the list is empty. A platform named without a variant takes
 * every variant of its architecture; {@code arm64} without a variant is {@code arm64/v8}, as
 * containerd normalizes it.
 */
public record PlatformFilter(List<Descriptor.Platform> platforms) {

    /** Every entry. */
    public static final PlatformFilter ALL = new PlatformFilter(List.of());

    private static final Pattern PART = Pattern.compile("[a-z0-9._-]{1,64}");

    public PlatformFilter {
        platforms = List.copyOf(Objects.requireNonNull(platforms, "platforms"));
    }

    /** Parses {@code linux/amd64}, {@code linux/arm64/v8}; anything else is PLATFORM_INVALID. */
    public static PlatformFilter parse(List<String> platforms) {
        List<Descriptor.Platform> parsed = new ArrayList<>();
        for (String platform : platforms) {
            parsed.add(parseOne(platform));
        }
        return new PlatformFilter(parsed);
    }

    private static Descriptor.Platform parseOne(String platform) {
        String[] parts = platform == null ? new String[0] : platform.toLowerCase(Locale.ROOT).split("/", -1);
        boolean valid = parts.length == 2 || parts.length == 3;
        for (int i = 0; valid && i < parts.length; i++) {
            valid = PART.matcher(parts[i]).matches();
        }
        if (!valid) {
            throw new InvalidRequestException(RegistryErrorCode.PLATFORM_INVALID, "invalid platform \""
                    + Printable.of(platform) + "\": write os/architecture[/variant], such as linux/amd64 or linux/arm64/v8");
        }
        return new Descriptor.Platform(parts[0], parts[1], parts.length == 3 ? parts[2] : null);
    }

    public boolean all() {
        return platforms.isEmpty();
    }

    /** Whether an index entry with this platform (null if it names none) is taken. */
    public boolean matches(Descriptor.Platform entry) {
        if (all()) {
            return true;
        }
        if (entry == null) {
            return false;
        }
        for (Descriptor.Platform wanted : platforms) {
            if (wanted.os().equals(entry.os()) && wanted.architecture().equals(entry.architecture())
                    && (blank(wanted.variant()) || variant(wanted).equals(variant(entry)))) {
                return true;
            }
        }
        return false;
    }

    /** The platforms as written: {@code ["linux/amd64"]}, empty for all. */
    public List<String> names() {
        return platforms.stream().map(Descriptor.Platform::toString).toList();
    }

    private static String variant(Descriptor.Platform platform) {
        if (blank(platform.variant())) {
            return "arm64".equals(platform.architecture()) ? "v8" : "";
        }
        return platform.variant();
    }

    private static boolean blank(String value) {
        return value == null || value.isEmpty();
    }
}
