package dev.regmirror.cli;

import picocli.CommandLine;
import picocli.CommandLine.Command;

/** {@code regmirror tls}: the TLS subcommands, for now {@code init}. */
@Command(name = "tls", mixinStandardHelpOptions = true, description = "Certificates for the mirror's HTTPS.",
        subcommands = {TlsInitCommand.class, CommandLine.HelpCommand.class})
final class TlsCommand implements Runnable {

    @CommandLine.Spec
    private CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        throw new CommandLine.ParameterException(spec.commandLine(), "missing subcommand");
    }
}
