package dev.regmirror.core.client;

import static dev.regmirror.core.client.UpstreamFixture.await;
import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.regmirror.core.manifest.Descriptor;
import dev.regmirror.core.reference.Digest;
import dev.regmirror.core.reference.RepositoryName;
import dev.regmirror.core.reference.Tag;
import dev.regmirror.core.testing.BuiltImage;
import dev.regmirror.core.testing.Closing;
import dev.regmirror.core.testing.FaultProxy;
import dev.regmirror.core.testing.RegistryProcess;
import dev.regmirror.core.testing.Skopeo;
import dev.regmirror.core.testing.TestImages;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Keep-alive against a real registry: the blobs of an image read one after another, and HEADs between
 * them, come over one connection, counted at a proxy in front of the registry that spoils nothing.
 */
class ConnectionReuseIT {

    private static final RepositoryName NAME = new RepositoryName("library/reuse");

    @TempDir
    static Path tmp;
    private static RegistryProcess registry;
    private static BuiltImage image;

    @BeforeAll
    static void start() {
        registry = RegistryProcess.start();
        image = TestImages.singleArch(tmp.resolve("image"), "v1", 3, 200 * 1024, 11);
        try (Skopeo skopeo = new Skopeo()) {
            skopeo.copy(image.source(), "docker://" + registry.hostPort() + "/" + NAME + ":1");
        }
    }

    @AfterAll
    static void stop() throws Exception {
        Closing.all(registry);
    }

    @Test
    void blobsReadOneAfterAnotherComeOverOneConnection() throws Exception {
        registry.reset();
        try (UpstreamFixture fixture = new UpstreamFixture();
             FaultProxy counting = FaultProxy.start(registry.url(), 1, 0, 0)) {
            HttpRegistryClient client = fixture.client(fixture.settings(counting.uri(), Optional.empty(),
                    Optional.empty()));
            List<Descriptor> blobs = image.blobs();

            for (Descriptor blob : blobs) {
                byte[] bytes = await(BodySubscriber.readAll(await(client.getBlob(NAME, blob.digest()))).result);
                assertEquals(blob.digest(), Digest.sha256Of(bytes));
            }

            assertEquals(blobs.size(), registry.blobGets().size(), registry.requests()::toString);
            assertEquals(1, counting.connections(), counting.summary());
        }
    }

    @Test
    void headsAndBlobsShareOneConnection() throws Exception {
        try (UpstreamFixture fixture = new UpstreamFixture();
             FaultProxy counting = FaultProxy.start(registry.url(), 2, 0, 0)) {
            HttpRegistryClient client = fixture.client(fixture.settings(counting.uri(), Optional.empty(),
                    Optional.empty()));
            Descriptor layer = image.layers().get(0);

            for (int i = 0; i < 3; i++) {
                assertEquals(image.digest(), await(client.headManifest(NAME, new Tag("1"))).digest().orElseThrow());
                assertEquals(layer.size(), await(client.headBlob(NAME, layer.digest())).size());
                byte[] bytes = await(BodySubscriber.readAll(await(client.getBlob(NAME, layer.digest()))).result);
                assertEquals(layer.digest(), Digest.sha256Of(bytes));
            }

            assertEquals(1, counting.connections(), counting.summary());
        }
    }
}
