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

    @Option(names = "--out", paramLabel = "DIR", description = "Default: CHECKPOINT-DIR/eval (flow eval), CHECKPOINT-DIR/samples (flow sample).")
    Path out;

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

    Opened open(String subdirectory) {
        Device device = runtime.apply();
        FlowRuns.Restored r = FlowRuns.load(checkpoint, device);
        RunDirectory run = RunDirectory.create(out != null ? out : runDir().resolve(subdirectory));
        return new Opened(device, r, SolverOptions.dopri5(atol, rtol), run, checkpoint);
    }

    /** The run directory the checkpoint is in. */
    Path runDir() {
        return Files.isDirectory(checkpoint) ? checkpoint : checkpoint.toAbsolutePath().getParent();
    }
}
