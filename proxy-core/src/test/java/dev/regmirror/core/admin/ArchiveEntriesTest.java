package dev.regmirror.core.admin;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.regmirror.core.error.InvalidRequestException;
import dev.regmirror.core.reference.Digest;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveOutputStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Reading an archive: every file hashed, JSON kept, links resolved inside it, escapes refused. */
class ArchiveEntriesTest {

    private static final byte[] JSON = "{\"a\":1}".getBytes(StandardCharsets.UTF_8);
    private static final byte[] GZIP = {0x1f, (byte) 0x8b, 8, 0, 0, 0};

    @TempDir
    Path dir;

    private Path tar(TarArchiveEntry... entries) throws IOException {
        Path file = dir.resolve("a" + System.nanoTime() + ".tar");
        try (TarArchiveOutputStream out = new TarArchiveOutputStream(Files.newOutputStream(file))) {
            out.setLongFileMode(TarArchiveOutputStream.LONGFILE_POSIX);
            for (TarArchiveEntry entry : entries) {
                byte[] content = entry.isFile() ? (entry.getName().endsWith(".gz") ? GZIP : JSON) : new byte[0];
                if (entry.isFile()) {
                    entry.setSize(content.length);
                }
                out.putArchiveEntry(entry);
                out.write(content);
                out.closeArchiveEntry();
            }
        }
        return file;
    }

    private static TarArchiveEntry file(String name) {
        return new TarArchiveEntry(name, true);
    }

    private static TarArchiveEntry link(String name, String target, byte type) {
        TarArchiveEntry entry = new TarArchiveEntry(name, type, true);
        entry.setLinkName(target);
        return entry;
    }

    @Test
    void filesAreHashedAndKeptWhenSmallAndJson() throws IOException {
        ArchiveEntries entries = ArchiveEntries.read(tar(file("./manifest.json"), file("layer.gz")));
        ArchiveEntries.Entry manifest = entries.named("manifest.json").orElseThrow();
        assertEquals(Digest.sha256Of(JSON), manifest.digest());
        assertEquals(new String(JSON, StandardCharsets.UTF_8), new String(manifest.bytes(), StandardCharsets.UTF_8));
        ArchiveEntries.Entry layer = entries.withDigest(Digest.sha256Of(GZIP)).orElseThrow();
        assertEquals(ArchiveEntries.Compression.GZIP, layer.compression());
        assertNull(layer.bytes(), "not JSON: not kept");
    }

    @Test
    void jsonWithLeadingWhitespaceOrAByteOrderMarkIsKept() throws IOException {
        byte[] pretty = "\n  {\"b\": 2}\n".getBytes(StandardCharsets.UTF_8);
        byte[] bom = "\uFEFF[1]".getBytes(StandardCharsets.UTF_8);
        Path file = dir.resolve("pretty.tar");
        try (TarArchiveOutputStream out = new TarArchiveOutputStream(Files.newOutputStream(file))) {
            for (Object[] item : new Object[][] {{"index.json", pretty}, {"other.json", bom}}) {
                TarArchiveEntry entry = new TarArchiveEntry((String) item[0]);
                entry.setSize(((byte[]) item[1]).length);
                out.putArchiveEntry(entry);
                out.write((byte[]) item[1]);
                out.closeArchiveEntry();
            }
        }
        ArchiveEntries entries = ArchiveEntries.read(file);
        assertArrayEquals(pretty, entries.named("index.json").orElseThrow().bytes());
        assertArrayEquals(bom, entries.named("other.json").orElseThrow().bytes());
    }

    @Test
    void linksInsideTheArchiveAreAliases() throws IOException {
        ArchiveEntries entries = ArchiveEntries.read(tar(file("blobs/x.json"),
                link("legacy/layer.tar", "../blobs/x.json", TarArchiveEntry.LF_SYMLINK),
                link("hard.json", "blobs/x.json", TarArchiveEntry.LF_LINK)));
        assertEquals(Digest.sha256Of(JSON), entries.named("legacy/layer.tar").orElseThrow().digest());
        assertEquals("blobs/x.json", entries.named("hard.json").orElseThrow().name());
    }

    @Test
    void whatCouldEscapeIsRefused() throws IOException {
        assertRefused(tar(file("../up.json")), "would land outside the archive");
        assertRefused(tar(file("a/../../up.json")), "would land outside the archive");
        assertRefused(tar(file("/etc/passwd")), "would land outside the archive");
        assertRefused(tar(file("x.json"), link("a/l", "../../x.json", TarArchiveEntry.LF_SYMLINK)), "outside the archive");
        assertRefused(tar(file("x.json"), link("l", "/x.json", TarArchiveEntry.LF_SYMLINK)), "outside the archive");
        assertRefused(tar(link("l", "missing", TarArchiveEntry.LF_SYMLINK)), "not a file in the archive");
        assertRefused(tar(new TarArchiveEntry("fifo", TarArchiveEntry.LF_FIFO, true)), "not a plain file");
        assertRefused(tar(file("x.json"), file("./x.json")), "twice");
        assertRefused(tar(), "holds no files");
    }

    @Test
    void aBlobNamedByAnotherDigestIsRefused() throws IOException {
        InvalidRequestException e = assertThrows(InvalidRequestException.class,
                () -> ArchiveEntries.read(tar(file("blobs/sha256/" + "0".repeat(64)))));
        assertEquals("DIGEST_INVALID", e.code().name());
    }

    private static void assertRefused(Path tar, String message) {
        InvalidRequestException e = assertThrows(InvalidRequestException.class, () -> ArchiveEntries.read(tar));
        assertTrue(e.getMessage().contains(message), e.getMessage());
    }
}
