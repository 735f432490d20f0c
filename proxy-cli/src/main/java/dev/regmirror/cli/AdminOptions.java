package dev.regmirror.cli;

import java.net.URI;
import picocli.CommandLine.Option;

/** The options every admin subcommand shares: where the admin API is, its token, the output format. */
final class AdminOptions {

    /** How results are printed. */
    enum Output { table, json }

    @Option(names = "--server", paramLabel = "URL", defaultValue = "http://127.0.0.1:5050",
            description = "The admin API's base URL (default: ${DEFAULT-VALUE}).")
    URI server;

    @Option(names = "--token", paramLabel = "TOKEN", defaultValue = "${env:REGMIRROR_ADMIN_TOKEN}",
            description = "The admin token (default: $REGMIRROR_ADMIN_TOKEN).")
    String token;

    @Option(names = {"-o", "--output"}, paramLabel = "FORMAT", defaultValue = "table",
            description = "table (for people) or json (for scripts); default: ${DEFAULT-VALUE}.")
    Output output;

    AdminClient client() {
        return new AdminClient(server, token == null || token.isEmpty() ? null : token);
    }
}
