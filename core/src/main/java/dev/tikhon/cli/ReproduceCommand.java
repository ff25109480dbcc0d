package dev.tikhon.cli;

import picocli.CommandLine.Command;

/** {@code tikhon reproduce}: the experiments that test the papers' claims. */
@Command(name = "reproduce", mixinStandardHelpOptions = true,
        description = "Run an experiment that tests a claim of the papers, with a report.",
        subcommands = {ReproduceTikhonov.class, ReproduceLipschitz.class, ReproduceFarkas.class,
                ReproduceCertify.class, ReproduceLipschitzCertify.class, ReproduceRnode.class,
                ReproduceEk.class, ReproduceVerifyCommand.class})
final class ReproduceCommand implements Runnable {
    @picocli.CommandLine.Spec picocli.CommandLine.Model.CommandSpec spec;

    @Override public void run() {
        spec.commandLine().usage(System.out);
    }
}
