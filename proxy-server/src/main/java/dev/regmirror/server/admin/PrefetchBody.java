package dev.regmirror.server.admin;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.regmirror.core.error.InvalidRequestException;
import dev.regmirror.core.error.Printable;
import dev.regmirror.core.error.RegistryErrorCode;
import dev.regmirror.core.manifest.PlatformFilter;
import dev.regmirror.core.reference.ImageReference;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.util.ArrayList;
import java.util.List;

/**
 * The body of {@code POST /admin/prefetch}, {@code {"image":"alpine:3.19","platforms":["linux/amd64"]}},
 * validated: not JSON or the wrong shape is BODY_INVALID, a bad image (an {@link ImageReference})
 * NAME_INVALID, TAG_INVALID or DIGEST_INVALID,
 * a bad platform PLATFORM_INVALID (all 400).
 */
record PrefetchBody(ImageReference image, PlatformFilter platforms) {

    private static final ObjectMapper MAPPER = new ObjectMapper();

    static PrefetchBody parse(ByteBuf content) {
        JsonNode json;
        try (InputStream in = new ByteBufInputStream(content.duplicate())) {
            json = MAPPER.readTree(in);
        } catch (JsonProcessingException e) {
            throw invalid("the body is not JSON: " + Printable.of(e.getOriginalMessage()));
        } catch (IOException e) {
            throw invalid("the body is not JSON: " + Printable.of(e.getMessage()));
        }
        if (json == null || !json.isObject()) {
            throw invalid("the body must be a JSON object: {\"image\":\"alpine:3.19\",\"platforms\":[\"linux/amd64\"]}");
        }
        JsonNode image = json.get("image");
        if (image == null || image.isNull()) {
            throw new InvalidRequestException(RegistryErrorCode.NAME_INVALID, "\"image\" is required");
        }
        if (!image.isTextual()) {
            throw invalid("\"image\" must be a string");
        }
        List<String> platforms = new ArrayList<>();
        JsonNode list = json.get("platforms");
        if (list != null && !list.isNull()) {
            if (!list.isArray()) {
                throw invalid("\"platforms\" must be an array of strings such as \"linux/amd64\"");
            }
            for (JsonNode platform : list) {
                if (!platform.isTextual()) {
                    throw invalid("\"platforms\" must be an array of strings such as \"linux/amd64\"");
                }
                platforms.add(platform.asText());
            }
        }
        return new PrefetchBody(ImageReference.parse(image.asText()), PlatformFilter.parse(platforms));
    }

    private static InvalidRequestException invalid(String message) {
        return new InvalidRequestException(RegistryErrorCode.BODY_INVALID, message);
    }
}
