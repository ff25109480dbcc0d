package dev.tikhon.cli;

import dev.tikhon.experiments.LipschitzNoiseExperiment;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;

/** {@code tikhon reproduce lipschitz}: its options and console report; the experiment itself is in {@code experiments/}. */
@Command(name = "lipschitz", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Label noise: a 2-D problem (clean label 1 above x₂ = ½ sin πx₁) with 10%% of training labels flipped; "
                + "an MLP trained unregularized and with the Lipschitz penalty (cross-entropy + λ · max ‖∇ₓℓ‖) at growing training-set "
                + "sizes. Error against the clean labels, memorized flips, model and data Lipschitz constants, decision maps. "
                + "Resumable: rerun the same command to continue."})
final class ReproduceLipschitz implements Callable<Integer> {
    @Option(names = "--sizes", split = ",", defaultValue = "100,300,1000,3000,10000", description = "Training-set sizes. Default: ${DEFAULT-VALUE}.")
    List<Integer> sizes;

    @Option(names = "--flip", defaultValue = "0.1", description = "Fraction of training labels flipped. Default: ${DEFAULT-VALUE}.")
    double flip;

    @Option(names = "--lip-weights", split = ",", defaultValue = "0.01,0.03", description = "Weights λ of the Lipschitz variants. Default: ${DEFAULT-VALUE}.")
    List<Double> lipWeights;

    @Option(names = "--hidden", split = ",", defaultValue = "128,128,128", description = "MLP hidden widths. Default: ${DEFAULT-VALUE}.")
    List<Integer> hidden;

    @Option(names = "--steps", defaultValue = "2000", description = "Adam steps per run. Default: ${DEFAULT-VALUE}.")
    int steps;

    @Option(names = "--batch-size", defaultValue = "128", description = "Default: ${DEFAULT-VALUE}.")
    int batchSize;

    @Option(names = "--lr", defaultValue = "0.003", description = "Adam learning rate (constant). Default: ${DEFAULT-VALUE}.")
    double lr;

    @Option(names = "--seeds", defaultValue = "2", description = "Repetitions per (variant, size). Default: ${DEFAULT-VALUE}.")
    int seeds;

    @Option(names = "--test-points", defaultValue = "20000", description = "Fresh test points (clean labels). Default: ${DEFAULT-VALUE}.")
    int testPoints;

    @Option(names = "--plot-sizes", split = ",", defaultValue = "300,10000", description = "Sizes whose decision maps are drawn. Default: ${DEFAULT-VALUE}.")
    List<Integer> plotSizes;

    @Mixin ReproduceOptions reproduce = new ReproduceOptions();

    @picocli.CommandLine.Spec picocli.CommandLine.Model.CommandSpec spec;

    @Override public Integer call() {
        // one point has no pair of labels for the data's Lipschitz constant: it failed after training, naming no option
        List<Integer> tooSmall = sizes.stream().filter(n -> n < 2).distinct().toList();
        if (!tooSmall.isEmpty()) {
            throw new dev.tikhon.UserError("--sizes " + join(sizes) + ": a training set of " + join(tooSmall) + " point has no pair of points "
                    + "with different labels, which the data's Lipschitz constant needs: give sizes of 2 or more (the experiment's: 100 to 10000)");
        }
        // a map is drawn only at a size that is trained: other --plot-sizes drew nothing, silently (the outputs line named map-*.png)
        List<Integer> unused = plotSizes.stream().filter(n -> !sizes.contains(n)).distinct().toList();
        if (OptionChecks.given(spec, "--plot-sizes") && !unused.isEmpty()) {
            throw new dev.tikhon.UserError("--plot-sizes " + join(unused) + (unused.size() == 1 ? " is not a size" : " are not sizes")
                    + " that --sizes " + join(sizes) + " trains, so no decision map would be drawn there: give --plot-sizes from --sizes");
        }
        if (!OptionChecks.given(spec, "--plot-sizes") && unused.size() == plotSizes.size()) {
            System.err.println("note:   no decision maps: the default --plot-sizes " + join(plotSizes) + " are not among --sizes "
                    + join(sizes) + "; give --plot-sizes from --sizes to draw them");
        }
        ReproduceOptions.Reproduction r = reproduce.start("lipschitz");
        List<LipschitzNoiseExperiment.Variant> variants = new java.util.ArrayList<>();
        variants.add(new LipschitzNoiseExperiment.Variant("unregularized", dev.tikhon.train.ObjectiveSpec.plain()));
        for (double w : lipWeights) {
            if (!(w > 0)) throw new IllegalArgumentException("--lip-weights must be positive, got " + w);
            variants.add(new LipschitzNoiseExperiment.Variant("lipschitz-" + w,
                    dev.tikhon.experiments.LipschitzNoiseExperiment.lipschitz(w)));
        }
        if (!(flip >= 0 && flip < 0.5)) throw new IllegalArgumentException("--flip must be in [0, 0.5), got " + flip);
        LipschitzNoiseExperiment.Settings settings = new LipschitzNoiseExperiment.Settings(sizes, flip, hidden, steps, batchSize, lr,
                seeds, testPoints, plotSizes, variants);
        LipschitzNoiseExperiment e = new LipschitzNoiseExperiment(settings, r.device(), r.dir());
        long t0 = System.nanoTime();
        List<LipschitzNoiseExperiment.Row> rows = e.run(System.out::println);
        Map<String, Object> metrics = r.metrics();
        metrics.put("claim", "with corrupted labels, the Lipschitz-regularized minimizer converges to a regularized label function "
                + "rather than to the noise (Oberman & Calder); error against the clean labels should fall with n for the "
                + "regularized model while the unregularized one fits the flipped labels");
        metrics.put("settings", dev.tikhon.report.Json.toMap(settings));   // a JSON object: the page says it in words
        metrics.put("summary", dev.tikhon.report.Json.toMap(e.report(rows)));
        metrics.put("wall_seconds", (System.nanoTime() - t0) / 1e9);
        r.run().writeMetrics(metrics);
        r.run().writeIndex("Tikhon: reproduce lipschitz (label noise)", "2-D sine boundary, " + flip + " of training labels flipped", metrics);
        r.outputs("index.html, results.csv, summary.csv, clean_error_vs_n.png" + (plotSizes.stream().anyMatch(sizes::contains) ? ", map-*.png" : ""));
        return 0;
    }

    private static String join(List<Integer> values) {
        return String.join(",", values.stream().map(String::valueOf).toList());
    }
}
