package dev.regmirror.cli;

import picocli.CommandLine;
import picocli.CommandLine.Command;

/** The {@code regmirror} command: dispatches to its subcommands and exits with their code. */
@Command(name = "regmirror", mixinStandardHelpOptions = true, version = "regmirror 0.1.0",
        description = "A pull-through caching mirror for container registries.",
        subcommands = {ServeCommand.class, ImagesCommand.class, UsageCommand.class, PrefetchCommand.class,
                JobsCommand.class, ClusterCommand.class, PurgeCommand.class, PruneCommand.class, VerifyCommand.class, ExportCommand.class, ImportCommand.class,
                TlsCommand.class, CommandLine.HelpCommand.class})
public final class RegmirrorCommand implements Runnable {

    @CommandLine.Spec
    private CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        throw new CommandLine.ParameterException(spec.commandLine(), "missing subcommand");
    }

    public static void main(String[] args) {
        System.exit(commandLine().execute(args));
    }

    /** The command line with its error handling, for main and for tests. */
    static CommandLine commandLine() {
        return new CommandLine(new RegmirrorCommand());
    }
}
