package dev.regmirror.core.auth.token;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;

import dev.regmirror.core.auth.BasicCredentials;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/** Token requests as Docker, containerd and OAuth2 clients send them. */
class TokenRequestTest {

    private static Scope scope(String value) {
        return Scope.parse(value).orElseThrow();
    }

    private static String invalid(TokenRequest.Parsed parsed) {
        return assertInstanceOf(TokenRequest.Parsed.Invalid.class, parsed).reason();
    }

    @Test
    void getQueryWithRepeatedAndSpaceSeparatedScopes() {
        TokenRequest.Parsed parsed = TokenRequest.fromQuery(Map.of(
                "service", List.of("regmirror"),
                "scope", List.of("repository:library/alpine:pull", "repository:a/b:pull,push repository:c:pull"),
                "account", List.of("alice"),
                "client_id", List.of("docker"),
                "offline_token", List.of("true")));
        assertEquals(new TokenRequest.Parsed.Ok(new TokenRequest("regmirror", List.of(scope("repository:library/alpine:pull"),
                scope("repository:a/b:pull,push"), scope("repository:c:pull")), Optional.of("alice")), Optional.empty()),
                parsed);
    }

    @Test
    void aLoginAsksForNoScope() {
        assertEquals(new TokenRequest.Parsed.Ok(new TokenRequest("regmirror", List.of(), Optional.of("alice")),
                        Optional.empty()),
                TokenRequest.fromQuery(Map.of("service", List.of("regmirror"), "account", List.of("alice"))));
        assertEquals(new TokenRequest.Parsed.Ok(new TokenRequest("regmirror", List.of(), Optional.empty()), Optional.empty()),
                TokenRequest.fromQuery(Map.of("service", List.of("regmirror"), "account", List.of(""))));
    }

    @Test
    void invalidQueriesSayWhy() {
        assertEquals("service is missing", invalid(TokenRequest.fromQuery(Map.of())));
        assertEquals("service is missing", invalid(TokenRequest.fromQuery(Map.of("service", List.of("")))));
        assertEquals("service is given more than once",
                invalid(TokenRequest.fromQuery(Map.of("service", List.of("a", "b")))));
        assertEquals("invalid service \"a\"b\"", invalid(TokenRequest.fromQuery(Map.of("service", List.of("a\"b")))));
        assertEquals("invalid scope \"repository:alpine\": the form is repository:<name>:pull",
                invalid(TokenRequest.fromQuery(Map.of("service", List.of("regmirror"),
                        "scope", List.of("repository:alpine")))));
        assertEquals("more than 32 scopes", invalid(TokenRequest.fromQuery(Map.of("service", List.of("regmirror"),
                "scope", Collections.nCopies(33, "repository:a:pull")))));
        assertEquals("invalid account \"a:b\"", invalid(TokenRequest.fromQuery(Map.of("service", List.of("regmirror"),
                "account", List.of("a:b")))));
    }

    @Test
    void oauthPasswordGrantCarriesTheCredentials() {
        TokenRequest.Parsed parsed = TokenRequest.fromForm(Map.of(
                "grant_type", List.of("password"), "username", List.of("alice"), "password", List.of("s3cret"),
                "service", List.of("regmirror"), "client_id", List.of("containerd"),
                "scope", List.of("repository:a:pull repository:b:pull")));
        TokenRequest.Parsed.Ok ok = assertInstanceOf(TokenRequest.Parsed.Ok.class, parsed);
        assertEquals(new TokenRequest("regmirror", List.of(scope("repository:a:pull"), scope("repository:b:pull")),
                Optional.empty()), ok.request());
        assertEquals(Optional.of(new BasicCredentials("alice", "s3cret")), ok.credentials());
        assertFalse(ok.toString().contains("s3cret"), ok.toString());
    }

    @Test
    void otherGrantsAndIncompleteFormsAreInvalid() {
        assertEquals("grant_type is missing", invalid(TokenRequest.fromForm(Map.of("service", List.of("regmirror")))));
        assertEquals("grant_type \"refresh_token\" is not supported: use password", invalid(TokenRequest.fromForm(Map.of(
                "grant_type", List.of("refresh_token"), "refresh_token", List.of("x"), "service", List.of("regmirror")))));
        assertEquals("the password grant needs username and password", invalid(TokenRequest.fromForm(Map.of(
                "grant_type", List.of("password"), "username", List.of("alice"), "service", List.of("regmirror")))));
        assertEquals("service is missing", invalid(TokenRequest.fromForm(Map.of(
                "grant_type", List.of("password"), "username", List.of("alice"), "password", List.of("x")))));
    }
}
