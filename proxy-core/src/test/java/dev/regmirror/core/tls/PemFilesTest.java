package dev.regmirror.core.tls;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.regmirror.core.testing.MutableClock;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** PEM files as written: what they hold, who may read them, and never an existing file replaced unasked. */
class PemFilesTest {

    @TempDir
    Path directory;

    private final MutableClock clock = new MutableClock();
    private final LocalCa ca = LocalCa.create("test CA", clock);
    private final ServerNames names = ServerNames.parse(List.of("localhost"), List.of());

    @Test
    void writesTheChainLeafFirstAndThePkcs8KeyForItsOwnerOnly() throws Exception {
        TlsMaterial server = ca.issueServer(names);
        Path chain = directory.resolve("server.crt");
        Path key = directory.resolve("server.key");

        PemFiles.write(server, chain, key, false);

        String chainText = Files.readString(chain);
        assertEquals(2, chainText.split("-----BEGIN CERTIFICATE-----", -1).length - 1, chainText);
        assertTrue(Files.readString(key).startsWith("-----BEGIN PRIVATE KEY-----\n"), Files.readString(key));
        assertEquals("rw-r--r--", PosixFilePermissions.toString(Files.getPosixFilePermissions(chain)));
        assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(key)));
        TlsMaterial loaded = new TlsMaterialLoader(clock).load(TlsMaterialLoaderTest.certificate(chain),
                TlsMaterialLoaderTest.privateKey(key));
        assertEquals(server.chain(), loaded.chain());
        assertTrue(TestPem.sameKey(server.key(), loaded.key()));
        assertEquals(List.of(chain, key), files());
    }

    @Test
    void replacesAnExistingFileOnlyWhenAsked() throws Exception {
        Path chain = directory.resolve("server.crt");
        Path key = directory.resolve("server.key");
        PemFiles.write(ca.issueServer(names), chain, key, false);
        String before = Files.readString(chain);

        assertThrows(FileAlreadyExistsException.class, () -> PemFiles.write(ca.issueServer(names), chain, key, false));
        assertEquals(before, Files.readString(chain));
        assertEquals(List.of(chain, key), files(), "no temporary file left behind");

        PemFiles.write(ca.issueServer(names), chain, key, true);
        assertNotEquals(before, Files.readString(chain));
        assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(key)));
        assertEquals(List.of(chain, key), files());
    }

    private List<Path> files() throws Exception {
        try (Stream<Path> files = Files.list(directory)) {
            return files.sorted().toList();
        }
    }
}
