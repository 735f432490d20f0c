package dev.regmirror.core.testing;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;

class LoggedRequestTest {

    @Test
    void parsesDistributionsCombinedAccessLogLines() {
        assertEquals(Optional.of(new LoggedRequest("GET", "/v2/library/app/blobs/sha256:" + "ab".repeat(32), "",
                        200, 262395, "skopeo/1.9.3")),
                LoggedRequest.parse("127.0.0.1 - - [22/Nov/2026:14:15:58 +0000] \"GET /v2/library/app/blobs/sha256:"
                        + "ab".repeat(32) + " HTTP/1.1\" 200 262395 \"\" \"skopeo/1.9.3\""));
        LoggedRequest put = LoggedRequest.parse("127.0.0.1 - - [22/Nov/2026:14:14:30 +0000] \"PUT "
                + "/v2/library/app/blobs/uploads/ce9a?_state=x%3D&digest=sha256%3Aab HTTP/1.1\" 201 0 \"\" \"a \\\"b\\\"\"")
                .orElseThrow();
        assertEquals(List.of("PUT", "/v2/library/app/blobs/uploads/ce9a", "_state=x%3D&digest=sha256%3Aab", 201),
                List.of(put.method(), put.path(), put.query(), put.status()));
    }

    @Test
    void ignoresEverythingElseTheRegistryPrints() {
        assertTrue(LoggedRequest.parse("time=\"2026-11-22T14:11:29Z\" level=info msg=\"listening on 127.0.0.1:1\"")
                .isEmpty());
        assertTrue(LoggedRequest.parse("").isEmpty());
    }
}
