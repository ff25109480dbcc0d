package dev.tikhon.cli;

import dev.tikhon.engine.Device;
import dev.tikhon.flow.FlowConfig;
import dev.tikhon.ode.SolverOptions;
import dev.tikhon.pipeline.FlowRuns;
import dev.tikhon.report.RunDirectory;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

/**
 * What {@code flow eval} and {@code flow sample} share: the trained flow they read, the folder of its image set, the Dopri5
 * evaluation solver, where they write (a subdirectory of the run by default) and the runtime.
 */
final class FlowCheckpoint {
    @Option(names = "--checkpoint", required = true, paramLabel = "PATH", description = "A flow run directory or its flow-checkpoint.tkn.")
    Path checkpoint;

    @Option(names = "--data-dir", paramLabel = "DIR", description = "Folder with the IDX files of an image set (as in flow train).")
    Path dataDir;

    @Option(names = "--atol", defaultValue = "1e-5", description = "Dopri5 absolute tolerance. Default: ${DEFAULT-VALUE}.")
    double atol;

    @Option(names = "--rtol", defaultValue = "1e-5", description = "Dopri5 relative tolerance. Default: ${DEFAULT-VALUE}.")
    double rtol;

    @Option(names = "--out", paramLabel = "DIR", description = "Default: CHECKPOINT-DIR/eval (flow eval), CHECKPOINT-DIR/samples (flow sample); "
            + "the same command's earlier output there is replaced, any other run is kept unless --force.")
    Path out;

    @Option(names = "--force", description = "Overwrite the run already in --out (any command's) instead of refusing.")
    boolean force;

    @Mixin RuntimeOptions runtime = new RuntimeOptions();

    /** The restored flow on its device, the evaluation solver, and the output directory (--out, else {@code subdirectory} of the run). */
    record Opened(Device device, FlowRuns.Restored flow, SolverOptions solver, RunDirectory run, Path checkpoint) {
        FlowConfig config() { return flow.config(); }

        /** The metrics.json header of {@code command}, naming the checkpoint. */
        Map<String, Object> metrics(String command) {
            Map<String, Object> m = RunReport.header(command, device);
            m.put("checkpoint", checkpoint.toString());
            return m;
        }
    }

    /**
     * Restores the flow and prepares the output folder of {@code command} ("flow eval"): --out, else {@code subdirectory} of
     * the run. A folder that holds a run is refused without --force ({@link RunFolder#refuseOverwrite}), except the default
     * folder when what it holds is this same command's earlier output (rerunning flow sample replaces its own samples).
     */
    Opened open(String subdirectory, String command, picocli.CommandLine.Model.CommandSpec spec) {
        Device device = runtime.apply();
        Path dir = out != null ? out : runDir().resolve(subdirectory);
        if (!(out == null && heldBy(dir, command))) RunFolder.refuseOverwrite(dir, force);
        FlowRuns.Restored r = FlowRuns.load(checkpoint, device);
        // NaN weights made Dopri5 spend its 10000 steps at t = 0 (tens of seconds) and then blame stiff dynamics
        dev.tikhon.train.Checkpoint.requireFinite(dev.tikhon.train.Checkpoint.fileIn(checkpoint, dev.tikhon.flow.FlowTraining.CHECKPOINT),
                r.model().module(), r.config().methodIsEk() ? "a smaller --lr or a larger --epsilon" : "a smaller --lr, or --reg-kinetic and --reg-jacobian");
        if (dataDir != null && OptionChecks.given(spec, "--data-dir")) FlowTrain.noteDataDirUnread(r.config().data());
        RunDirectory run = RunDirectory.create(dir);
        return new Opened(device, r, SolverOptions.dopri5(atol, rtol), run, checkpoint);
    }

    /** Whether {@code dir} holds only {@code command}'s own earlier output: its metrics.json says so and it keeps no run.json. */
    static boolean heldBy(Path dir, String command) {
        Path metrics = dir.resolve(RunDirectory.METRICS_FILE);
        if (!Files.isRegularFile(metrics) || Files.exists(dir.resolve(RunFolder.SETTINGS))) return false;
        try {
            com.fasterxml.jackson.databind.JsonNode c = dev.tikhon.report.Json.mapper().readTree(metrics.toFile()).get("command");
            return c != null && command.equals(c.asText());
        } catch (java.io.IOException | RuntimeException e) {
            return false;
        }
    }

    /** The run directory the checkpoint is in. */
    Path runDir() {
        return Files.isDirectory(checkpoint) ? checkpoint : checkpoint.toAbsolutePath().getParent();
    }
}
