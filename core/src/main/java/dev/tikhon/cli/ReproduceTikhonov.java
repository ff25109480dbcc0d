package dev.tikhon.cli;

import dev.tikhon.experiments.TikhonovExperiment;
import dev.tikhon.report.Json;
import dev.tikhon.train.TrainConfig;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;

/** {@code tikhon reproduce tikhonov}: its options and console report; the experiment itself is in {@code experiments/}. */
@Command(name = "tikhonov", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Small CNN on Fashion-MNIST: undefended, Tikhonov by finite differences (λ 0.1, 1), by double backprop "
                + "(λ 0.1), PGD-7 adversarial training (ℓ∞, ε 0.1), TRADES (β 6) and Gaussian noise (σ 0.25). Clean accuracy on the "
                + "test set, mean and max ‖∇ₓℓ‖, training time; on the first --robust-images test images, clean and ℓ∞ robust accuracy, "
                + "median DDN ℓ2 distance and median L-bound estimate. Resumable: rerun the same command to continue."})
final class ReproduceTikhonov implements Callable<Integer> {
    @Mixin DataOptions data = new DataOptions();

    @Option(names = "--epochs", defaultValue = "3", description = "Default: ${DEFAULT-VALUE}.")
    int epochs;

    @Option(names = "--variants", split = ",", description = "A subset of: undefended, tikhonov-fd-0.1, tikhonov-fd-1, "
            + "tikhonov-exact-0.1, pgd-7, trades-6, noise-0.25. Default: all.")
    List<String> variants;

    @Option(names = "--seed", defaultValue = "0", description = "Default: ${DEFAULT-VALUE}.")
    long seed;

    @Option(names = "--robust-images", paramLabel = "N", defaultValue = "500",
            description = "Attack the first N test images of each variant for the robustness columns (ℓ∞ ensemble at 2/255 and 8/255, "
                    + "DDN median ℓ2 distance, L-bound); 0 skips them. Default: ${DEFAULT-VALUE}.")
    int robustImages;

    @Option(names = "--train-images", defaultValue = "0",
            description = "Train on the first N training images, for a quick look (0: all of them). Default: ${DEFAULT-VALUE}.")
    int trainImages;

    @Mixin ReproduceOptions reproduce = new ReproduceOptions();

    @Override public Integer call() {
        List<TikhonovExperiment.Variant> chosen = ReproduceOptions.chosen(variants, TikhonovExperiment.variants(), TikhonovExperiment.Variant::name);
        ReproduceOptions.Reproduction r = reproduce.start("tikhonov");
        DataOptions.Loaded loaded = r.data(data, seed, trainImages);
        TrainConfig base = TrainConfig.builder().epochs(epochs).seed(seed).evalBatchSize(256).build();
        TikhonovExperiment e = new TikhonovExperiment(loaded.sets(), loaded.info(), base, r.device(), r.dir(),
                robustImages > 0 ? TikhonovExperiment.RobustnessSettings.standard(robustImages, seed) : null);
        List<TikhonovExperiment.Row> rows;
        try (ProgressListener.PerTask bars = new ProgressListener.PerTask()) {
            rows = e.run(chosen, bars);
        }
        Map<String, Object> metrics = r.metrics();
        metrics.put("data", loaded.description());
        metrics.put("epochs", epochs);
        metrics.put("claim", "finite-difference Tikhonov regularization shrinks input-gradient norms by an order of magnitude "
                + "at a few points of clean accuracy, at a fraction of the cost of adversarial training");
        TikhonovExperiment.Report report = e.report(rows);
        metrics.put("variants", Json.toMap(report.variants()));
        if (report.robustnessSettings() != null) metrics.put("robustness_settings", Json.toMap(report.robustnessSettings()));
        r.write(metrics, loaded.description() + ", small CNN, " + epochs + " epochs");
        int testImages = loaded.sets().test().size();
        int robustN = rows.stream().filter(x -> x.robustness() != null).mapToInt(x -> x.robustness().images()).findFirst().orElse(0);
        System.out.printf("test acc: on all %d test images%s%n", testImages,
                robustN > 0 ? "; clean, rob: on the first " + robustN + " (the attacked ones); med L-bd est: median L-bound, an estimate of a lower bound on the ℓ2 distance" : "");
        System.out.printf("%-20s %8s %12s %12s %10s%s%n", "variant", "test acc", "mean ‖∇ℓ‖₂", "max ‖∇ℓ‖₂", "train s",
                robustImages > 0 ? String.format("%10s %10s %10s %10s %14s", "clean", "rob 2/255", "rob 8/255", "med ℓ2 d",
                        "med L-bd est") : "");
        for (TikhonovExperiment.Row x : rows) {
            String robust = "";
            if (x.robustness() != null) {
                double[] a = x.robustness().linfRobustAccuracy();
                robust = String.format(Locale.ROOT, "%10.4f %10.4f %10.4f %10.4g %14.4g", x.robustness().cleanAccuracy(), a[0], a[1],
                        x.robustness().medianL2Distance(),
                        x.robustness().medianL2LBound());
            }
            System.out.printf(Locale.ROOT, "%-20s %8.4f %12.4g %12.4g %10.1f%s%n", x.variant(), x.testAccuracy(), x.norms().l2Mean(),
                    x.norms().l2Max(), x.trainSeconds(), robust);
        }
        r.outputs("index.html, results.csv, metrics.json, one run per variant");
        return 0;
    }
}
