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

    @Mixin RuntimeOptions runtime = new RuntimeOptions();

    /** {@code first/more...} under the working directory is the default output directory. */
    OutputOptions(String first, String... more) {
        out = Path.of(first, more);
    }

    /** Applies the thread count and resolves the device. */
    Device apply() { return runtime.apply(); }

    /** Creates (or reuses) the output directory. */
    RunDirectory create() { return RunDirectory.create(out); }
}
