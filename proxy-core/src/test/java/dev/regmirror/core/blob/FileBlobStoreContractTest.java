package dev.regmirror.core.blob;

import java.io.IOException;
import java.nio.file.Files;

/** {@link FileBlobStore} under the {@link BlobStoreContract}. */
class FileBlobStoreContractTest extends BlobStoreContract {

    @Override
    protected BlobStore store() throws IOException {
        return FileBlobStore.open(Files.createTempDirectory(scratch, "cache"));
    }
}
