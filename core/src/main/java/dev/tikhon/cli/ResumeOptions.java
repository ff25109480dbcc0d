package dev.tikhon.cli;

import picocli.CommandLine.Option;

/** {@code --resume} and {@code --force} of the commands whose runs live in a folder (docs/runs.md, {@link RunFolder}). */
final class ResumeOptions {
    @Option(names = "--resume", description = "Continue the run in --out where it stopped, with the settings it was started with "
            + "(recorded in its run.json); an option given again with another value is an error. train --epochs and flow train "
            + "--iterations above the recorded count extend a run.")
    boolean resume;

    @Option(names = "--force", description = "Overwrite the run already in --out (finished or not) instead of refusing.")
    boolean force;
}
