package dev.tikhon.cli;

import dev.tikhon.engine.Device;
import dev.tikhon.report.RunDirectory;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.nio.file.Path;

/**
 * The options a command with a fixed output directory ends with: where it writes and what it runs on. The command
 * gives the default directory when it creates the mixin; help shows it.
 */
final class OutputOptions {
    @Option(names = "--out", paramLabel = "DIR", description = "Output directory. Default: ${DEFAULT-VALUE}.")
    Path out;

    @Option(names = "--force", description = "Overwrite the run already in --out (any command's) instead of refusing.")
    boolean force;

    @Mixin RuntimeOptions runtime = new RuntimeOptions();

    /** {@code first/more...} under the working directory is the default output directory. */
    OutputOptions(String first, String... more) {
        out = Path.of(first, more);
    }

    /** Applies the thread count and resolves the device. */
    Device apply() { return runtime.apply(); }

    /** Creates the output directory, or reuses one that holds no run (with --force, any). */
    RunDirectory create() {
        RunFolder.refuseOverwrite(out, force);
        return RunDirectory.create(out);
    }
}
