package dev.regmirror.core.testing;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveOutputStream;

/** Writes tar archives of named files, in the given order, as the import tests upload them. */
public final class TarFiles {

    private TarFiles() {
    }

    /** Writes the files (name to content) into a tar at {@code file} and returns it. */
    public static Path write(Path file, Map<String, byte[]> files) throws IOException {
        try (OutputStream stream = Files.newOutputStream(file); TarArchiveOutputStream out = new TarArchiveOutputStream(stream)) {
            out.setLongFileMode(TarArchiveOutputStream.LONGFILE_POSIX);
            for (Map.Entry<String, byte[]> entry : files.entrySet()) {
                TarArchiveEntry tarEntry = new TarArchiveEntry(entry.getKey(), true);
                tarEntry.setSize(entry.getValue().length);
                out.putArchiveEntry(tarEntry);
                out.write(entry.getValue());
                out.closeArchiveEntry();
            }
        }
        return file;
    }
}
