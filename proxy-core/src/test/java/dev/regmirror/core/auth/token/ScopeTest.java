package dev.regmirror.core.auth.token;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.regmirror.core.reference.RepositoryName;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/** Scopes as clients and challenges write them. */
class ScopeTest {

    @Test
    void pullScopeOfARepository() {
        Scope scope = Scope.pull(new RepositoryName("library/alpine"));
        assertEquals("repository:library/alpine:pull", scope.toString());
        assertEquals(Optional.of(scope), Scope.parse("repository:library/alpine:pull"));
    }

    @Test
    void nameLiesBetweenTheFirstAndTheLastColon() {
        Scope scope = Scope.parse("repository:registry.lan:5000/team/app:pull,push").orElseThrow();
        assertEquals("repository", scope.type());
        assertEquals("registry.lan:5000/team/app", scope.name());
        assertEquals(List.of("pull", "push"), scope.actions());
        assertEquals("repository:registry.lan:5000/team/app:pull,push", scope.toString());
    }

    @Test
    void resourceClassAndWildcardActionsAreKept() {
        assertEquals("repository(plugin)", Scope.parse("repository(plugin):a/b:pull").orElseThrow().type());
        assertEquals(List.of("*"), Scope.parse("registry:catalog:*").orElseThrow().actions());
        assertEquals(List.of("pull"), Scope.parse("repository:a:pull,pull").orElseThrow().actions());
    }

    @Test
    void malformedScopesAreEmptyNeverAnException() {
        for (String bad : new String[] {"", "repository", "repository:alpine", "repository::pull", "repository:a:",
                "repository:a:pull,", "Repository:a:pull", "repository:a b:pull", "repository:a\"b:pull",
                ":a:pull", "repository:a:PULL", "repository:" + "a".repeat(600) + ":pull"}) {
            assertEquals(Optional.empty(), Scope.parse(bad), bad);
        }
        assertEquals(Optional.empty(), Scope.parse(null));
        assertThrows(IllegalArgumentException.class, () -> new Scope("repository", "a b", List.of("pull")));
        assertThrows(IllegalArgumentException.class, () -> new Scope("repository", "a", List.of()));
    }

    @Test
    void spaceSeparatedListsAsChallengesHoldThem() {
        assertEquals(Optional.of(List.of(Scope.parse("repository:a:pull").orElseThrow(),
                        Scope.parse("repository:b:pull,push").orElseThrow())),
                Scope.parseAll(" repository:a:pull  repository:b:pull,push "));
        assertEquals(Optional.of(List.of()), Scope.parseAll(""));
        assertEquals(Optional.empty(), Scope.parseAll("repository:a:pull nonsense"));
    }
}
