package dev.regmirror.core.client;

import dev.regmirror.core.reference.Digest;
import dev.regmirror.core.reference.RepositoryName;
import dev.regmirror.core.reference.Tag;
import java.nio.charset.StandardCharsets;

/** What upstreams answer in these tests, shaped as Docker Hub answers them. */
final class Payloads {

    static final RepositoryName ALPINE = new RepositoryName("library/alpine");
    static final Tag LATEST = new Tag("latest");
    static final String MANIFEST_PATH = "/v2/library/alpine/manifests/latest";

    /** library/alpine:3.19 for linux/amd64, as registry-1.docker.io serves it. */
    static final String MANIFEST = """
            {
               "schemaVersion": 2,
               "mediaType": "application/vnd.docker.distribution.manifest.v2+json",
               "config": {
                  "mediaType": "application/vnd.docker.container.image.v1+json",
                  "size": 1471,
                  "digest": "sha256:05455a08881ea9cf0e752bc48e61bbd71a34c029bb13df01e40e3e70e0d007bd"
               },
               "layers": [
                  {
                     "mediaType": "application/vnd.docker.image.rootfs.diff.tar.gzip",
                     "size": 3408729,
                     "digest": "sha256:4abcf20661432fb2d719aaf90656f55c287f8ca915dc1c92ec14ff61e67fbaf8"
                  }
               ]
            }""";
    static final byte[] MANIFEST_BYTES = MANIFEST.getBytes(StandardCharsets.UTF_8);
    static final Digest MANIFEST_DIGEST = Digest.sha256Of(MANIFEST_BYTES);

    /** An OCI index without a mediaType field, which the spec allows. */
    static final String INDEX_WITHOUT_MEDIA_TYPE = """
            {"schemaVersion":2,"manifests":[{"mediaType":"application/vnd.oci.image.manifest.v1+json",\
            "digest":"sha256:4abcf20661432fb2d719aaf90656f55c287f8ca915dc1c92ec14ff61e67fbaf8","size":1024,\
            "platform":{"architecture":"amd64","os":"linux"}}]}""";

    private Payloads() {
    }

    /** The Bearer challenge Docker Hub sends, with the realm at {@code realmBase}. */
    static String bearerChallenge(String realmBase) {
        return "Bearer realm=\"" + realmBase + "/token\",service=\"registry.docker.io\","
                + "scope=\"repository:library/alpine:pull\"";
    }

    static String tokenJson(String token, int expiresIn) {
        return "{\"token\":\"" + token + "\",\"access_token\":\"" + token + "\",\"expires_in\":" + expiresIn
                + ",\"issued_at\":\"2024-05-01T10:00:00.000000000Z\"}";
    }
}
