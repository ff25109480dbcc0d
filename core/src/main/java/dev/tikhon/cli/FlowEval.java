package dev.tikhon.cli;

import dev.tikhon.engine.Device;
import dev.tikhon.engine.Tensor;
import dev.tikhon.pipeline.FlowRuns;
import dev.tikhon.flow.Flows;
import dev.tikhon.ode.SolverOptions;
import dev.tikhon.report.RunDirectory;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;

/** {@code tikhon flow eval}. */
@Command(name = "eval", mixinStandardHelpOptions = true, sortOptions = false,
        description = "Held-out NLL (nats, or bits/dim for images) of a trained flow with Dopri5, and its NFE.")
final class FlowEval implements Callable<Integer> {
    @Option(names = "--checkpoint", required = true, paramLabel = "PATH", description = "A flow run directory or its flow-checkpoint.tkn.")
    Path checkpoint;

    @Mixin FlowCommand.EvalSolver solverOptions = new FlowCommand.EvalSolver();

    @Option(names = "--held-out", defaultValue = "5000", paramLabel = "N", description = "Held-out examples. Default: ${DEFAULT-VALUE}.")
    int heldOut;

    @Option(names = "--batch-size", defaultValue = "1000", description = "Default: ${DEFAULT-VALUE}.")
    int batchSize;

    @Option(names = "--data-dir", paramLabel = "DIR", description = "Folder with the IDX files of an image set (as in flow train).")
    Path dataDir;

    @Option(names = "--out", paramLabel = "DIR", description = "Default: CHECKPOINT-DIR/eval.")
    Path out;

    @Mixin RuntimeOptions runtime = new RuntimeOptions();

    @Override public Integer call() {
        Device device = runtime.apply();
        FlowRuns.Restored r = FlowRuns.load(checkpoint, device);
        SolverOptions solver = solverOptions.solver();
        Tensor test;
        if (Flows.isToy(r.config().data())) {
            test = Flows.toyHeldOut(r.config().data(), heldOut, r.config().seed());
        } else {
            test = Flows.imageHeldOut(Flows.loadImages(r.config().data(), dataDir).test(), heldOut);
            dev.tikhon.engine.Rng.seed(dev.tikhon.engine.Rng.derive(r.config().seed(), 4));   // as flow train's evaluation
        }
        FlowRuns.Evaluation e = FlowRuns.evaluate(r.model(), test, solver, batchSize);
        RunDirectory run = RunDirectory.create(out != null ? out : FlowCommand.runDir(checkpoint).resolve("eval"));
        Map<String, Object> metrics = new LinkedHashMap<>(RunReport.header("flow eval", device));
        metrics.put("checkpoint", checkpoint.toString());
        metrics.put("config", r.config());
        metrics.put("iterations_trained", r.meta().iteration());
        metrics.put("held_out", e);
        run.writeMetrics(metrics);
        run.writeIndex("Tikhon flow evaluation", r.config().describe(), metrics);
        System.out.printf(Locale.ROOT, "held-out %s %.4f ± %.4f on %d points (%s): %.1f NFE per batch of %d, %.1f s%n",
                e.unit(), e.nll(), e.standardError(), e.examples(), e.solver(), e.nfePerBatch(), e.batchSize(), e.seconds());
        System.out.println("outputs: " + run.path());
        return 0;
    }
}
