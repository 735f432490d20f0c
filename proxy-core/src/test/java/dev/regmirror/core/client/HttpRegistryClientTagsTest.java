package dev.regmirror.core.client;

import static com.github.tomakehurst.wiremock.client.WireMock.aResponse;
import static com.github.tomakehurst.wiremock.client.WireMock.equalTo;
import static com.github.tomakehurst.wiremock.client.WireMock.get;
import static com.github.tomakehurst.wiremock.client.WireMock.getRequestedFor;
import static com.github.tomakehurst.wiremock.client.WireMock.okJson;
import static com.github.tomakehurst.wiremock.client.WireMock.urlEqualTo;
import static com.github.tomakehurst.wiremock.client.WireMock.urlPathEqualTo;
import static dev.regmirror.core.client.UpstreamFixture.await;
import static dev.regmirror.core.client.UpstreamFixture.failure;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.github.tomakehurst.wiremock.WireMockServer;
import dev.regmirror.core.error.RegistryErrorCode;
import dev.regmirror.core.error.UpstreamErrorException;
import dev.regmirror.core.reference.RepositoryName;
import java.util.List;
import java.util.Optional;
import java.util.OptionalInt;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** Tag listing: the page asked for, the next page from the Link header, errors and bodies that are no list. */
class HttpRegistryClientTagsTest {

    private static final RepositoryName NGINX = new RepositoryName("library/nginx");
    private static final String TAGS_PATH = "/v2/library/nginx/tags/list";

    private final UpstreamFixture fixture = new UpstreamFixture();
    private final WireMockServer upstream = fixture.upstream;
    private final HttpRegistryClient client = fixture.client();

    @AfterEach
    void close() {
        fixture.close();
    }

    private TagList list(OptionalInt n, Optional<String> last) throws Exception {
        return await(client.listTags(NGINX, n, last));
    }

    @Test
    void pageIsAskedForWithNAndLastAndTheNextPageComesFromTheLinkHeader() throws Exception {
        upstream.stubFor(get(urlPathEqualTo(TAGS_PATH)).willReturn(okJson("{\"name\":\"library/nginx\",\"tags\":[\"a\",\"b\"]}")
                .withHeader("Link", "</v2/library/nginx/tags/list?last=b&n=2>; rel=\"next\"")));

        TagList page = list(OptionalInt.of(2), Optional.of("1.25-alpine"));

        assertEquals(new TagList(List.of("a", "b"), Optional.of("b")), page);
        upstream.verify(1, getRequestedFor(urlEqualTo(TAGS_PATH + "?n=2&last=1.25-alpine"))
                .withHeader("Accept", equalTo("application/json")));
    }

    @Test
    void withoutNOrLastNoQueryIsSentAndWithoutLinkThereIsNoNextPage() throws Exception {
        upstream.stubFor(get(urlEqualTo(TAGS_PATH)).willReturn(okJson("{\"name\":\"library/nginx\",\"tags\":[\"latest\"]}")));

        assertEquals(new TagList(List.of("latest"), Optional.empty()), list(OptionalInt.empty(), Optional.empty()));
    }

    @Test
    void onlyLastIsSentWhenNIsNotGiven() throws Exception {
        upstream.stubFor(get(urlEqualTo(TAGS_PATH + "?last=b")).willReturn(okJson("{\"tags\":[\"c\"]}")));

        assertEquals(List.of("c"), list(OptionalInt.empty(), Optional.of("b")).tags());
    }

    @Test
    void nextLinkIsFoundAmongOtherLinksAndWithAnAbsoluteUrl() throws Exception {
        upstream.stubFor(get(urlPathEqualTo(TAGS_PATH)).willReturn(okJson("{\"tags\":[\"x\"]}")
                .withHeader("Link", "<https://registry.example/v2/library/nginx/tags/list?n=1&last=a>; rel=\"prev\", "
                        + "<https://registry.example/v2/library/nginx/tags/list?n=1&last=x%2Dy>; rel=\"next\"")));

        assertEquals(Optional.of("x-y"), list(OptionalInt.of(1), Optional.empty()).next());
    }

    @Test
    void listWithoutTagsOrWithNullTagsIsEmpty() throws Exception {
        upstream.stubFor(get(urlEqualTo(TAGS_PATH)).willReturn(okJson("{\"name\":\"library/nginx\",\"tags\":null}")));

        assertEquals(new TagList(List.of(), Optional.empty()), list(OptionalInt.empty(), Optional.empty()));
    }

    @Test
    void unknownRepositoryIsNameUnknown() throws Exception {
        upstream.stubFor(get(urlPathEqualTo(TAGS_PATH)).willReturn(aResponse().withStatus(404)
                .withHeader("Content-Type", "application/json")
                .withBody("{\"errors\":[{\"code\":\"NAME_UNKNOWN\",\"message\":\"repository name not known to registry\"}]}")));

        UpstreamErrorException e = failure(client.listTags(NGINX, OptionalInt.empty(), Optional.empty()),
                UpstreamErrorException.class);

        assertEquals(RegistryErrorCode.NAME_UNKNOWN, e.code());
        assertTrue(e.isNotFound());
        assertEquals("list tags of library/nginx from docker.io (" + fixture.url()
                + "): upstream answered 404 NAME_UNKNOWN: repository name not known to registry", e.getMessage());
    }

    @Test
    void notFoundWithoutBodyIsNameUnknownToo() throws Exception {
        upstream.stubFor(get(urlPathEqualTo(TAGS_PATH)).willReturn(aResponse().withStatus(404)));

        assertEquals(RegistryErrorCode.NAME_UNKNOWN, failure(client.listTags(NGINX, OptionalInt.empty(),
                Optional.empty()), UpstreamErrorException.class).code());
    }

    @Test
    void bodyThatIsNotJsonIsAnUpstreamError() throws Exception {
        upstream.stubFor(get(urlPathEqualTo(TAGS_PATH)).willReturn(aResponse().withStatus(200)
                .withHeader("Content-Type", "text/html").withBody("<html>maintenance</html>")));

        UpstreamErrorException e = failure(client.listTags(NGINX, OptionalInt.empty(), Optional.empty()),
                UpstreamErrorException.class);

        assertEquals(RegistryErrorCode.UPSTREAM_ERROR, e.code());
        assertEquals(200, e.upstreamStatus());
        assertTrue(e.getMessage().startsWith("list tags of library/nginx from docker.io (" + fixture.url()
                + "): the tag list is not JSON"), e.getMessage());
    }

    @Test
    void jsonThatIsNoTagListIsAnUpstreamError() throws Exception {
        for (String body : List.of("null", "[\"a\"]", "{\"tags\":[\"a\",null]}", "{\"tags\":\"a\"}")) {
            upstream.stubFor(get(urlPathEqualTo(TAGS_PATH)).willReturn(okJson(body)));

            UpstreamErrorException e = failure(client.listTags(NGINX, OptionalInt.empty(), Optional.empty()),
                    UpstreamErrorException.class);

            assertEquals(RegistryErrorCode.UPSTREAM_ERROR, e.code(), body);
        }
    }

    @Test
    void nextLinkThatIsNoUrlIsAnUpstreamErrorNotASilentlyShortList() throws Exception {
        upstream.stubFor(get(urlPathEqualTo(TAGS_PATH)).willReturn(okJson("{\"tags\":[\"a\"]}")
                .withHeader("Link", "</v2/library/nginx/tags/list?last=a|b>; rel=\"next\"")));

        UpstreamErrorException e = failure(client.listTags(NGINX, OptionalInt.empty(), Optional.empty()),
                UpstreamErrorException.class);

        assertEquals(RegistryErrorCode.UPSTREAM_ERROR, e.code());
        assertTrue(e.getMessage().contains("the Link header"), e.getMessage());
    }

    @Test
    void serverErrorIsAnUpstreamErrorNeverAnEmptyList() throws Exception {
        upstream.stubFor(get(urlPathEqualTo(TAGS_PATH)).willReturn(aResponse().withStatus(502)));

        UpstreamErrorException e = failure(client.listTags(NGINX, OptionalInt.empty(), Optional.empty()),
                UpstreamErrorException.class);

        assertEquals(502, e.upstreamStatus());
        assertEquals(RegistryErrorCode.UPSTREAM_ERROR, e.code());
    }
}
