package dev.tikhon.cli;

import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

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

    @Mixin ReproduceOptions reproduce = new ReproduceOptions();

    @Override public Integer call() {
        ReproduceOptions.Reproduction r = reproduce.start("ek");
        for (String d : datasets) {
            if (!dev.tikhon.flow.Flows.isToy(d)) {
                throw new dev.tikhon.UserError("reproduce ek takes the 2-D toy sets (" + String.join(", ", dev.tikhon.data.ToyData.NAMES)
                        + "), not '" + d + "'");
            }
        }
        dev.tikhon.experiments.EkExperiment.Budget budget = new dev.tikhon.experiments.EkExperiment.Budget(datasets, iterations,
                batchSize, epsilon, mcSamples, flowSamples, alpha, heldOut, seed, grid);
        dev.tikhon.experiments.EkExperiment.Result result;
        try {
            result = new dev.tikhon.experiments.EkExperiment(budget, r.device(), r.run().path()).run(ResumableBar::new);
        } catch (dev.tikhon.train.TrainingDivergedException e) {
            // both methods train with fixed learning rates here: the ways out are the EK flow's ε and the batches
            throw ReproduceOptions.diverged(e, e.dir != null && e.dir.getFileName().toString().endsWith("-ek")
                    ? "a larger --epsilon, or more --mc-samples" : "a larger --batch-size or another --seed");
        }
        Map<String, Object> metrics = r.metrics();
        metrics.put("claim", "a normalizing flow recovered from entropy–Kantorovich potentials models the 2-D toy densities; "
                + "held-out NLL beside the CNF trained with the same budget");
        metrics.put("budget", result.budget());
        metrics.put("results", dev.tikhon.report.Json.toMap(result).get("results"));
        r.run().writeMetrics(metrics);
        dev.tikhon.report.HtmlReport.write(r.run().path(), "Tikhon: reproduce ek", "EK flow vs CNF on " + String.join(", ", datasets) + ", "
                + iterations + " iterations of batch " + batchSize, metrics, result.images(), result.captions());
        for (dev.tikhon.experiments.EkExperiment.Row x : result.results()) {
            System.out.printf(Locale.ROOT, "%-13s %-4s held-out %s %.4f ± %.4f, %.1f s training%n", x.data(), x.method(),
                    x.unit(), x.heldoutNll(), x.heldoutNllStderr(), x.trainSeconds());
        }
        r.outputs("index.html, results.csv, one run directory per data set and method");
        return 0;
    }
}
