package dev.regmirror.server.console;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.Map;
import java.util.Optional;

/**
 * The console's files, read from the jar ({@code /console/} on the class path) once at start-up
 * and served from memory, so answering them never touches the disk: the two pages, the style
 * sheet and the script. Nothing comes from a CDN: the console works on an air-gapped network.
 */
final class ConsoleAssets {

    /** A file and its {@code Content-Type}. */
    record Asset(byte[] bytes, String contentType) {
    }

    private static final Map<String, String> FILES = Map.of(
            "index.html", "text/html; charset=utf-8",
            "signin.html", "text/html; charset=utf-8",
            "console.css", "text/css; charset=utf-8",
            "console.js", "text/javascript; charset=utf-8");

    private final Map<String, Asset> assets;

    private ConsoleAssets(Map<String, Asset> assets) {
        this.assets = assets;
    }

    /** Reads every file; a missing one is a broken build. */
    static ConsoleAssets load() {
        java.util.HashMap<String, Asset> loaded = new java.util.HashMap<>();
        FILES.forEach((name, type) -> {
            try (InputStream in = ConsoleAssets.class.getResourceAsStream("/console/" + name)) {
                if (in == null) {
                    throw new IllegalStateException("the console file /console/" + name + " is missing from the jar");
                }
                loaded.put(name, new Asset(in.readAllBytes(), type));
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        });
        return new ConsoleAssets(Map.copyOf(loaded));
    }

    Optional<Asset> get(String name) {
        return Optional.ofNullable(assets.get(name));
    }
}
