package dev.regmirror.core.storage.s3;

import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.regmirror.core.config.S3Settings;
import dev.regmirror.core.storage.MetadataStore;
import dev.regmirror.core.storage.MetadataStoreContract;
import dev.regmirror.core.testing.S3ProxyProcess;
import java.io.IOException;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** {@link S3MetadataStore} on a real S3 server under the {@link MetadataStoreContract}. */
class S3MetadataStoreIT extends MetadataStoreContract {

    private static final AtomicInteger STORES = new AtomicInteger();
    private static S3ProxyProcess s3;
    private static S3Objects objects;

    @BeforeAll
    static void start() {
        s3 = S3ProxyProcess.start();
        s3.createBucket("meta");
        objects = S3Objects.open(s3.s3Settings("meta", "mirror/", S3Settings.MIN_PART_SIZE));
    }

    @AfterAll
    static void stop() {
        objects.close();
        s3.close();
    }

    @Override
    protected MetadataStore store() {
        // A base of its own per store: every test starts empty in the one bucket.
        return new S3MetadataStore(objects, "store-" + STORES.incrementAndGet() + "/");
    }

    @Test
    void aStoreThatStoppedAnswersIsAnIoFailure() throws IOException {
        MetadataStore store = store();
        store.write("pulls.json", new byte[] {1});
        s3.stop();
        try {
            IOException e = org.junit.jupiter.api.Assertions.assertThrows(IOException.class, () -> store.read("pulls.json"));
            assertTrue(e.getMessage().contains(s3.endpoint().toString()), e.getMessage());
        } finally {
            s3.restart();
        }
        assertTrue(store.read("pulls.json").isPresent());
    }
}
