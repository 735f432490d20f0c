package dev.regmirror.server.admin;

import dev.regmirror.core.admin.ImageCatalog;
import dev.regmirror.core.cache.PullStore;
import dev.regmirror.core.error.InvalidRequestException;
import dev.regmirror.core.error.RegistryErrorCode;
import java.time.Instant;
import java.util.Arrays;
import java.util.Comparator;
import java.util.Locale;
import java.util.Optional;

/** The orders {@code GET /admin/tags} can sort by; each breaks ties by repository and tag. */
enum TagSort {
    REPOSITORY(Comparator.comparing(TagRow::repository)),
    TAG(Comparator.comparing(TagRow::tag)),
    SIZE(Comparator.comparingLong(TagRow::size)),
    PULLS(Comparator.comparingLong(TagRow::pulls)),
    LAST_PULLED(Comparator.comparing(row -> row.lastPulled().orElse(Instant.EPOCH))),
    LAST_RESOLVED(Comparator.comparing(TagRow::lastResolved));

    private static final Comparator<TagRow> TIES = Comparator.comparing(TagRow::repository).thenComparing(TagRow::tag);

    private final Comparator<TagRow> order;

    TagSort(Comparator<TagRow> order) {
        this.order = order;
    }

    Comparator<TagRow> comparator(boolean descending) {
        Comparator<TagRow> first = descending ? order.reversed() : order;
        return first.thenComparing(TIES);
    }

    /** The parameter's value: {@code repository}, {@code tag}, {@code size}, {@code pulls}, {@code lastPulled} or {@code lastResolved}. */
    String wireName() {
        String[] words = name().toLowerCase(Locale.ROOT).split("_");
        return words.length == 1 ? words[0] : words[0] + Character.toUpperCase(words[1].charAt(0)) + words[1].substring(1);
    }

    /** @throws InvalidRequestException 400 PARAMETER_INVALID for a name that is no sort */
    static TagSort parse(Optional<String> given) {
        if (given.isEmpty()) {
            return REPOSITORY;
        }
        return Arrays.stream(values()).filter(sort -> sort.wireName().equals(given.get())).findFirst()
                .orElseThrow(() -> new InvalidRequestException(RegistryErrorCode.PARAMETER_INVALID, "sort must be one of "
                        + String.join(", ", Arrays.stream(values()).map(TagSort::wireName).toList())
                        + "; was " + given.get()));
    }

    /** One tag as the table shows it. */
    record TagRow(String repository, String upstream, boolean hosted, ImageCatalog.TaggedImage image) {
        String tag() {
            return image.tag();
        }

        long size() {
            return image.size();
        }

        long pulls() {
            return image.pulls().map(PullStore.Pulls::count).orElse(0L);
        }

        Optional<Instant> lastPulled() {
            return image.pulls().map(PullStore.Pulls::last);
        }

        Instant lastResolved() {
            return image.lastResolved();
        }
    }
}
