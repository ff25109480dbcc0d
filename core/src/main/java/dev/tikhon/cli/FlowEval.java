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

    @Option(names = "--held-out", paramLabel = "N",
            description = "Held-out examples. Default: as many as flow train evaluated on (its metrics.json beside the checkpoint), "
                    + "else 5000.")
    Integer heldOut;

    @Option(names = "--batch-size",
            description = "Default: the batch flow train evaluated with (1000 for 2-D data, 200 for images), so that the same --held-out "
                    + "repeats its figure exactly; another batch changes it slightly (Dopri5's steps are chosen per batch, and an image "
                    + "flow's dequantization and Hutchinson noise is drawn per batch).")
    Integer batchSize;

    @picocli.CommandLine.Spec picocli.CommandLine.Model.CommandSpec spec;

    /** How many held-out examples flow train evaluated on, so that eval repeats its figure; 5000 (its default) if unknown. */
    static int trainedHeldOut(java.nio.file.Path runDir) {
        java.nio.file.Path m = runDir.resolve(dev.tikhon.report.RunDirectory.METRICS_FILE);
        if (!java.nio.file.Files.isRegularFile(m)) return 5000;
        try {
            com.fasterxml.jackson.databind.JsonNode n = dev.tikhon.report.Json.readTree(m).path("held_out").path("examples");
            return n.isInt() && n.asInt() > 0 ? n.asInt() : 5000;
        } catch (RuntimeException e) {   // an unreadable report: the default, as for a checkpoint without one
            return 5000;
        }
    }

    @Override public Integer call() {
        FlowCheckpoint.Opened o = flow.open("eval", "flow eval", spec);
        FlowConfig config = o.config();
        int trained = FlowRuns.evaluationBatch(config.data());
        if (batchSize != null && batchSize != trained) {
            System.err.println("note:   --batch-size " + batchSize + " is not the " + trained + " flow train evaluated with: the held-out "
                    + "figure will differ slightly from training's (Dopri5's steps" + (Flows.isToy(config.data()) ? "" : " and the noise")
                    + " are drawn per batch)");
        }
        int batch = batchSize != null ? batchSize : trained;
        int heldOut = this.heldOut != null ? this.heldOut : trainedHeldOut(flow.runDir());
        Tensor test;
        if (Flows.isToy(config.data())) {
            test = Flows.toyHeldOut(config.data(), heldOut, config.training().seed());
        } else {
            var images = Flows.loadImages(config.data(), flow.dataDir).test();
            FlowRuns.noteHeldOutCap(heldOut, images.size());
            test = Flows.imageHeldOut(images, heldOut);
            dev.tikhon.engine.Rng.seed(dev.tikhon.engine.Rng.derive(config.training().seed(), 4));   // as flow train's evaluation
        }
        FlowRuns.Evaluation e = FlowRuns.evaluate(o.flow().model(), test, o.solver(), batch);
        Map<String, Object> metrics = o.metrics("flow eval");
        metrics.put("config", config.applicable());
        metrics.put("iterations_trained", o.flow().meta().iteration());
        metrics.put("held_out", e);
        o.run().writeMetrics(metrics);
        o.run().writeIndex("Tikhon flow evaluation", config.describe(), metrics);
        System.out.printf(Locale.ROOT, "held-out %s %.4f ± %.4f on %d points (%s): %s, %.1f s%n",
                e.unit(), e.nll(), e.standardError(), e.examples(), e.solver(), e.nfeText(), e.seconds());
        System.out.println("        " + e.estimate());
        System.out.println("outputs: " + o.run().path());
        return 0;
    }
}
