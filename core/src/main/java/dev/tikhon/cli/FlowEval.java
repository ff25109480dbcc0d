package dev.tikhon.cli;

import dev.tikhon.engine.Tensor;
import dev.tikhon.flow.FlowConfig;
import dev.tikhon.flow.Flows;
import dev.tikhon.pipeline.FlowRuns;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;

/** {@code tikhon flow eval}. */
@Command(name = "eval", mixinStandardHelpOptions = true, sortOptions = false,
        description = "Held-out NLL (nats, or bits/dim for images) of a trained flow with Dopri5, and its NFE.")
final class FlowEval implements Callable<Integer> {
    @Mixin FlowCheckpoint flow = new FlowCheckpoint();

    @Option(names = "--held-out", defaultValue = "5000", paramLabel = "N", description = "Held-out examples. Default: ${DEFAULT-VALUE}.")
    int heldOut;

    @Option(names = "--batch-size", defaultValue = "1000", description = "Default: ${DEFAULT-VALUE}.")
    int batchSize;

    @Override public Integer call() {
        FlowCheckpoint.Opened o = flow.open("eval");
        FlowConfig config = o.config();
        Tensor test;
        if (Flows.isToy(config.data())) {
            test = Flows.toyHeldOut(config.data(), heldOut, config.training().seed());
        } else {
            test = Flows.imageHeldOut(Flows.loadImages(config.data(), flow.dataDir).test(), heldOut);
            dev.tikhon.engine.Rng.seed(dev.tikhon.engine.Rng.derive(config.training().seed(), 4));   // as flow train's evaluation
        }
        FlowRuns.Evaluation e = FlowRuns.evaluate(o.flow().model(), test, o.solver(), batchSize);
        Map<String, Object> metrics = o.metrics("flow eval");
        metrics.put("config", config);
        metrics.put("iterations_trained", o.flow().meta().iteration());
        metrics.put("held_out", e);
        o.run().writeMetrics(metrics);
        o.run().writeIndex("Tikhon flow evaluation", config.describe(), metrics);
        System.out.printf(Locale.ROOT, "held-out %s %.4f ± %.4f on %d points (%s): %.1f NFE per batch of %d, %.1f s%n",
                e.unit(), e.nll(), e.standardError(), e.examples(), e.solver(), e.nfePerBatch(), e.batchSize(), e.seconds());
        System.out.println("outputs: " + o.run().path());
        return 0;
    }
}
