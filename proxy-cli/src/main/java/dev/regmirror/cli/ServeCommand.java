package dev.regmirror.cli;

import com.typesafe.config.Config;
import dev.regmirror.core.config.ConfigLoader;
import dev.regmirror.core.config.SettingsException;
import dev.regmirror.server.ProxyMain;
import dev.regmirror.server.ProxyServer;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code regmirror serve}: loads the configuration and runs the mirror until stopped. */
@Command(name = "serve", mixinStandardHelpOptions = true,
        description = "Run the mirror. Reads --config, else $REGMIRROR_CONFIG, else conf/application.conf if present.")
final class ServeCommand implements Callable<Integer> {

    static final Path DEFAULT_CONFIG = Path.of("conf", "application.conf");

    /**
     * The JVM flags the server needs, which the {@code regmirror} launcher passes
     * (docs/configuration.md, "JVM flags"): none since upstream requests left the JDK HTTP client.
     */
    static final List<String> JVM_FLAGS = List.of();

    @Option(names = {"-c", "--config"}, paramLabel = "FILE", description = "Configuration file (HOCON).")
    private Path config;

    @Override
    public Integer call() throws InterruptedException {
        Config loaded;
        ProxyServer server;
        try {
            loaded = ConfigLoader.load(configFile(), System.getenv());
            server = ProxyMain.start(loaded);
        } catch (SettingsException e) {
            System.err.println("regmirror: " + e.getMessage());
            return 2;
        } catch (IOException e) {
            System.err.println("regmirror: cannot start: " + (e.getMessage() == null ? e.toString() : e.getMessage()));
            return 1;
        } catch (RuntimeException e) {
            System.err.println("regmirror: cannot start: " + e);
            return 1;
        }
        Runtime.getRuntime().addShutdownHook(new Thread(server::close, "regmirror-shutdown"));
        server.awaitClose();
        return 0;
    }

    private Optional<Path> configFile() {
        if (config != null) {
            return Optional.of(config);
        }
        String fromEnv = System.getenv("REGMIRROR_CONFIG");
        if (fromEnv != null && !fromEnv.isEmpty()) {
            return Optional.of(Path.of(fromEnv));
        }
        return Files.isRegularFile(DEFAULT_CONFIG) ? Optional.of(DEFAULT_CONFIG) : Optional.empty();
    }
}
