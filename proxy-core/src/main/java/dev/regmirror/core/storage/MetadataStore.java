package dev.regmirror.core.storage;

import java.io.IOException;
import java.time.Instant;
import java.util.List;
import java.util.Optional;

/**
 * The small objects a cache keeps beside its blobs (manifest media types, tag resolutions,
 * referrers lists, repository markers, pull counts), read and written whole, each write atomic: a
 * reader sees the old bytes or the new, never a mix. Keys are relative names of '/'-separated
 * segments, as {@code CacheLayout} names them; none may leave the store. Calls block on disk or
 * network: run them on a storage thread, never on an event loop.
 */
public interface MetadataStore {

    /** The object's bytes, empty if there is none under the key. */
    Optional<byte[]> read(String key) throws IOException;

    /** Stores the bytes under the key, replacing what was there, durably. */
    void write(String key, byte[] bytes) throws IOException;

    /** Removes the object; removing one that is not there is no failure. */
    void delete(String key) throws IOException;

    /**
     * When the object was last written, as the store records it (a file's modification time, an
     * object's {@code Last-Modified}); empty if there is none under the key.
     */
    Optional<Instant> lastModified(String key) throws IOException;

    /** Every key that starts with {@code prefix}, in lexical order. */
    List<String> list(String prefix) throws IOException;

    /**
     * Checks that a key is relative, of non-empty segments, none of them {@code .} or {@code ..}.
     *
     * @throws IllegalArgumentException if it is not
     */
    static String checkKey(String key) {
        if (key.isEmpty() || key.startsWith("/") || key.endsWith("/") || key.indexOf('\\') >= 0
                || key.indexOf('\0') >= 0) {
            throw new IllegalArgumentException("not a storage key: \"" + key + "\"");
        }
        for (String segment : key.split("/", -1)) {
            if (segment.isEmpty() || segment.equals(".") || segment.equals("..")) {
                throw new IllegalArgumentException("not a storage key: \"" + key + "\"");
            }
        }
        return key;
    }
}
