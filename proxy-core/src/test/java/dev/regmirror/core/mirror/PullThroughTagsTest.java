package dev.regmirror.core.mirror;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.regmirror.core.client.TagList;
import java.util.List;
import java.util.Optional;
import java.util.OptionalInt;
import org.junit.jupiter.api.Test;

/** Pages stay right whether or not the upstream honours n and last. */
class PullThroughTagsTest {

    private static final TagList ALL = new TagList(List.of("3", "2", "1"), Optional.empty());

    @Test
    void anUpstreamThatIgnoresPagingIsPagedHere() {
        TagList first = PullThroughTags.pageOf(ALL, OptionalInt.of(2), Optional.empty());
        assertEquals(new TagList(List.of("3", "2"), Optional.of("2")), first);
        TagList second = PullThroughTags.pageOf(ALL, OptionalInt.of(2), Optional.of("2"));
        assertEquals(new TagList(List.of("1"), Optional.empty()), second);
    }

    @Test
    void anUpstreamThatPagesIsPassedOnAsItIs() {
        TagList paged = new TagList(List.of("a", "b"), Optional.of("b"));
        assertEquals(paged, PullThroughTags.pageOf(paged, OptionalInt.of(2), Optional.empty()));
        TagList next = new TagList(List.of("c"), Optional.empty());
        assertEquals(next, PullThroughTags.pageOf(next, OptionalInt.of(2), Optional.of("b")));
    }

    @Test
    void zeroAsksForAnEmptyPageAndNoNAsksForEverything() {
        assertEquals(List.of(), PullThroughTags.pageOf(ALL, OptionalInt.of(0), Optional.empty()).tags());
        assertEquals(ALL, PullThroughTags.pageOf(ALL, OptionalInt.empty(), Optional.empty()));
    }
}
