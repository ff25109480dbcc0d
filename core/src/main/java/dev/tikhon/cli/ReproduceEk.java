package dev.tikhon.cli;

import dev.tikhon.engine.Device;
import dev.tikhon.report.RunDirectory;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;

/** {@code tikhon reproduce ek}: its options and console report; the experiment itself is in {@code experiments/}. */
@Command(name = "ek", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Normalizing flows from entropy–Kantorovich potentials (docs/methods.md §7) on the 2-D toy sets against the CNF trained "
                + "by maximum likelihood with the same iterations, batch, learning rate and seed: held-out NLL (Dopri5 at 1e-5, exact "
                + "divergence), density heatmaps and samples beside the data. Resumable: rerun to continue."})
final class ReproduceEk implements Callable<Integer> {
    @Option(names = "--datasets", split = ",", defaultValue = "8gaussians,checkerboard,2spirals,pinwheel,moons,circles,rings,swissroll",
            description = "2-D toy sets. Default: ${DEFAULT-VALUE}.")
    List<String> datasets;

    @Option(names = "--iterations", defaultValue = "1000", description = "Iterations of both methods (the paper: 20000 for EK). Default: ${DEFAULT-VALUE}.")
    int iterations;

    @Option(names = "--batch-size", defaultValue = "1000", description = "Default: ${DEFAULT-VALUE}.")
    int batchSize;

    @Option(names = "--epsilon", defaultValue = "1", description = "Default: ${DEFAULT-VALUE}.")
    double epsilon;

    @Option(names = "--mc-samples", defaultValue = "100", description = "Monte Carlo samples per heat average in training. Default: ${DEFAULT-VALUE}.")
    int mcSamples;

    @Option(names = "--flow-samples", defaultValue = "100", description = "Fixed Monte Carlo samples per heat average of the flow. Default: ${DEFAULT-VALUE}.")
    int flowSamples;

    @Option(names = "--alpha", defaultValue = "1e-5", description = "Twin-penalty weight. Default: ${DEFAULT-VALUE}.")
    double alpha;

    @Option(names = "--held-out", defaultValue = "2000", description = "Default: ${DEFAULT-VALUE}.")
    int heldOut;

    @Option(names = "--grid", defaultValue = "100",
            description = "Cells per side of each density.png (each cell costs one held-out point's evaluation). Default: ${DEFAULT-VALUE}.")
    int grid;

    @Option(names = "--seed", defaultValue = "0", description = "Default: ${DEFAULT-VALUE}.")
    long seed;

    @Option(names = "--out", paramLabel = "DIR", description = "Default: runs/reproduce-ek.")
    Path out;

    @Mixin RuntimeOptions runtime = new RuntimeOptions();

    @Override public Integer call() {
        Device device = runtime.apply();
        for (String d : datasets) {
            if (!dev.tikhon.flow.Flows.isToy(d)) {
                throw new dev.tikhon.UserError("reproduce ek takes the 2-D toy sets (" + String.join(", ", dev.tikhon.data.ToyData.NAMES)
                        + "), not '" + d + "'");
            }
        }
        Path dir = out != null ? out : Path.of("runs", "reproduce-ek");
        RunDirectory run = RunDirectory.create(dir);
        dev.tikhon.experiments.EkExperiment.Budget budget = new dev.tikhon.experiments.EkExperiment.Budget(datasets, iterations,
                batchSize, epsilon, mcSamples, flowSamples, alpha, heldOut, seed, grid);
        Map<String, Object> result = new dev.tikhon.experiments.EkExperiment(budget, device, run.path())
                .run(name -> new FlowCommand.BarListener(name));
        Map<String, Object> metrics = RunReport.header("reproduce ek", device);
        metrics.put("claim", "a normalizing flow recovered from entropy–Kantorovich potentials models the 2-D toy densities; "
                + "held-out NLL beside the CNF trained with the same budget");
        @SuppressWarnings("unchecked")
        List<String> images = (List<String>) result.remove("images");
        metrics.putAll(result);
        run.writeMetrics(metrics);
        dev.tikhon.report.HtmlReport.write(run.path(), "Tikhon: reproduce ek", "EK flow vs CNF on " + String.join(", ", datasets) + ", "
                + iterations + " iterations of batch " + batchSize, metrics, images);
        @SuppressWarnings("unchecked")
        List<Map<String, Object>> rows = (List<Map<String, Object>>) result.get("results");
        for (Map<String, Object> r : rows) {
            System.out.printf(Locale.ROOT, "%-13s %-4s held-out NLL %.4f ± %.4f, %.1f s training%n", r.get("data"), r.get("method"),
                    r.get("heldout_nll"), r.get("heldout_nll_stderr"), r.get("train_seconds"));
        }
        System.out.println("outputs: " + run.path() + " (index.html, results.csv, one run directory per data set and method)");
        return 0;
    }
}
