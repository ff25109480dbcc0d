package dev.tikhon.cli;

import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.nio.file.Path;

/** What every {@code reproduce} subcommand takes besides its experiment's settings: where to write, and the runtime. */
final class ReproduceOptions {
    @Option(names = "--out", paramLabel = "DIR", description = "Default: runs/reproduce-${COMMAND-NAME}.")
    Path out;

    @Mixin RuntimeOptions runtime = new RuntimeOptions();

    /** --out, or runs/reproduce-{@code name}. */
    Path dir(String name) {
        return out != null ? out : Path.of("runs", "reproduce-" + name);
    }
}
