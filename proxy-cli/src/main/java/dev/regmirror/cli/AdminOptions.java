package dev.regmirror.cli;

import java.net.URI;
import java.time.Duration;
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

    @Option(names = "--timeout", paramLabel = "DURATION", converter = StallLimit.Converter.class,
            description = "Give up when the admin API sends nothing for this long, before its answer or within it "
                    + "(30s, 2m, 1h); default: 2m, and for import 30m from the end of the upload; "
                    + "prefetch --wait gives up on a running job that shows no progress for this long.")
    Duration timeout;

    AdminClient client() {
        return client(StallLimit.DEFAULT);
    }

    /** A client whose stall limit is {@link #stallLimit}. */
    AdminClient client(Duration fallback) {
        return new AdminClient(server, token == null || token.isEmpty() ? null : token,
                new StallLimit(stallLimit(fallback)));
    }

    /** {@code --timeout}, or {@code fallback} when it was not given. */
    Duration stallLimit(Duration fallback) {
        return timeout == null ? fallback : timeout;
    }
}
