package dev.regmirror.core.storage.s3;

import dev.regmirror.core.storage.CacheLayout;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.UUID;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The multipart uploads this node has in progress, one small file each (the object's key and the
 * upload's id) in the cache directory's {@code bucket-uploads/}: a node killed mid-upload finds its
 * own unfinished uploads there at its next start and aborts them at once, while the uploads other
 * nodes on the bucket are running are left alone (those go only by age). Each file is written when
 * the upload begins and removed once it is completed or aborted.
 */
public final class UploadRecords {

    /** Records nothing: for uploads no crash can leave (a test's, an import's that runs to its end). */
    public static final UploadRecords NONE = new UploadRecords(Optional.empty());

    private static final Logger LOG = LoggerFactory.getLogger(UploadRecords.class);

    private final Optional<Path> directory;

    private UploadRecords(Optional<Path> directory) {
        this.directory = directory;
    }

    /** The records of the node whose cache directory this is. */
    public static UploadRecords of(CacheLayout layout) {
        return new UploadRecords(Optional.of(layout.bucketUploads()));
    }

    /** Notes that the upload has begun; returns its record, for {@link #forget}. */
    Optional<Path> record(S3Upload upload) {
        if (directory.isEmpty()) {
            return Optional.empty();
        }
        Path record = directory.get().resolve(UUID.randomUUID() + ".upload");
        try {
            Files.createDirectories(directory.get());
            Files.writeString(record, upload.key() + "\n" + upload.uploadId() + "\n", StandardCharsets.UTF_8);
            return Optional.of(record);
        } catch (IOException e) {
            // The upload goes on; if this node dies, the clean-up by age aborts it.
            LOG.warn("recording the upload of {} in {}: {}", upload.key(), directory.get(), e.toString());
            return Optional.empty();
        }
    }

    /** The upload has been completed or aborted: drops its record. */
    void forget(Optional<Path> record) {
        if (record.isEmpty()) {
            return;
        }
        try {
            Files.deleteIfExists(record.get());
        } catch (IOException e) {
            LOG.warn("removing {}: {}", record.get(), e.toString());
        }
    }

    /**
     * Aborts every upload recorded by an earlier run of this node, which ended without completing
     * or aborting them (it was killed), and drops their records. Run at start, before any upload
     * begins. Returns how many were aborted.
     *
     * @throws S3StoreException if the store does not answer; the records stay for the next start
     */
    public int abortLeftovers(S3Objects objects) throws IOException {
        if (directory.isEmpty() || !Files.isDirectory(directory.get())) {
            return 0;
        }
        int aborted = 0;
        try (DirectoryStream<Path> records = Files.newDirectoryStream(directory.get())) {
            for (Path record : records) {
                List<String> lines = Files.readAllLines(record, StandardCharsets.UTF_8);
                if (lines.size() >= 2) { // else a record cut short by the crash, of an upload the age rule aborts
                    objects.abortUpload(lines.get(0), lines.get(1));
                    aborted++;
                }
                Files.delete(record);
            }
        }
        if (aborted > 0) {
            LOG.info("aborted {} unfinished uploads this node left in {}", aborted, objects.describe());
        }
        return aborted;
    }
}
