package dev.regmirror.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.regmirror.core.manifest.MediaTypes;
import dev.regmirror.core.testing.BuiltImage;
import dev.regmirror.core.testing.RegistryProcess;
import dev.regmirror.core.testing.Skopeo;
import dev.regmirror.core.testing.TestImages;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Several listeners side by side, each with its own network rule: the main one serving only a
 * range the test client is not in answers 403 DENIED and contacts no upstream, another plain one
 * serves everyone, and the admin API's own rule refuses its clients alike.
 */
class ListenersIT {

    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    Path work;

    @Test
    void eachListenerServesOnlyTheAddressesItAllows() throws Exception {
        try (RegistryProcess upstream = RegistryProcess.start(); Skopeo skopeo = new Skopeo()) {
            BuiltImage image = TestImages.singleArch(work.resolve("image"), "1.0", 1, 10_000, 71);
            skopeo.copy(image.source(), "docker://" + upstream.hostPort() + "/library/app:1.0");
            upstream.reset();
            try (MirrorFixture mirror = MirrorFixture.start(upstream.url(), work.resolve("cache"), Map.of(
                    "regmirror.server.allow", List.of("10.0.0.0/8", "fd00::/8"),
                    "regmirror.server.listeners.lan.port", 0,
                    "regmirror.admin.allow", List.of("192.168.0.0/16")))) {
                HttpClient http = HttpClient.newHttpClient();
                HttpResponse<String> denied = http.send(HttpRequest.newBuilder(mirror.uri("/v2/library/app/manifests/1.0"))
                        .header("Accept", MediaTypes.ACCEPT_ALL_HEADER).build(), HttpResponse.BodyHandlers.ofString());
                assertEquals(403, denied.statusCode());
                JsonNode error = JSON.readTree(denied.body()).path("errors").path(0);
                assertEquals("DENIED", error.path("code").asText());
                assertEquals("this registry listener does not serve 127.0.0.1", error.path("message").asText());
                assertEquals(0, upstream.requests().size(), "no upstream contact for a refused client");

                URI lan = URI.create("http://127.0.0.1:" + mirror.port("lan") + "/v2/library/app/manifests/1.0");
                HttpResponse<byte[]> served = http.send(HttpRequest.newBuilder(lan).header("Accept",
                        MediaTypes.ACCEPT_ALL_HEADER).build(), HttpResponse.BodyHandlers.ofByteArray());
                assertEquals(200, served.statusCode());
                assertEquals(image.digest().toString(), served.headers().firstValue("Docker-Content-Digest").orElseThrow());

                HttpResponse<String> admin = http.send(HttpRequest.newBuilder(mirror.adminUri("/admin/usage")).build(),
                        HttpResponse.BodyHandlers.ofString());
                assertEquals(403, admin.statusCode());
                assertTrue(admin.body().contains("this admin listener does not serve 127.0.0.1"), admin.body());
            }
        }
    }
}
