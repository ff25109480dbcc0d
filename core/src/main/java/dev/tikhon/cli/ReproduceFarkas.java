package dev.tikhon.cli;

import dev.tikhon.experiments.FarkasExperiment;
import dev.tikhon.report.Json;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;

/** {@code tikhon reproduce farkas}: its options and console report; the experiment itself is in {@code experiments/}. */
@Command(name = "farkas", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Deep residual networks without batch norm on Fashion-MNIST (docs/methods.md §8): FarkasNet vs the plain ResNet vs the "
                + "plain ResNet with batch norm at each --depths, SGD momentum 0.9, constant lr 0.1, weight decay 5e-4, standard "
                + "init; with --search also zero-last, warm-up and lr 0.01 at the first depth. Per-step training-loss curves, test "
                + "accuracy, trains/stalled/diverged. Resumable: rerun the same command to continue."})
final class ReproduceFarkas implements Callable<Integer> {
    @Mixin DataOptions data = new DataOptions();

    @Option(names = "--depths", split = ",", defaultValue = "20,56", description = "Default: ${DEFAULT-VALUE}.")
    List<Integer> depths;

    @Option(names = "--search", negatable = true, defaultValue = "true", fallbackValue = "true",
            description = "Also the recipe variants (zero-last, warm-up over half an epoch, lr 0.01) at the first depth. Default: on.")
    boolean search;

    @Option(names = "--variants", split = ",", description = "Only these variants (names as in results.csv).")
    List<String> variants;

    @Option(names = "--train-size", defaultValue = "2000", description = "First N training images. Default: ${DEFAULT-VALUE}.")
    int trainSize;

    @Option(names = "--test-size", defaultValue = "1000", description = "First N test images. Default: ${DEFAULT-VALUE}.")
    int testSize;

    @Option(names = "--epochs", defaultValue = "1", description = "Default: ${DEFAULT-VALUE}.")
    int epochs;

    @Option(names = "--width", defaultValue = "4", description = "First-stage channels of every network. Default: ${DEFAULT-VALUE}.")
    int width;

    @Option(names = "--batch-size", defaultValue = "32", description = "Default: ${DEFAULT-VALUE}.")
    int batchSize;

    @Option(names = "--seed", defaultValue = "0", description = "Default: ${DEFAULT-VALUE}.")
    long seed;

    @Mixin ReproduceOptions reproduce = new ReproduceOptions();

    @Override public Integer call() {
        List<FarkasExperiment.Variant> chosen = ReproduceOptions.chosen(variants, FarkasExperiment.variants(depths, search),
                FarkasExperiment.Variant::name);
        ReproduceOptions.Reproduction r = reproduce.start("farkas");
        DataOptions.Loaded loaded = data.load(seed);
        ReproduceOptions.requireImages("farkas", loaded);
        var train = loaded.sets().train().head(trainSize);
        var test = loaded.sets().test().head(testSize);
        String described = loaded.description() + "; first " + train.size() + " training and " + test.size() + " test images";
        System.out.println("data:   " + described);
        FarkasExperiment.Budget budget = new FarkasExperiment.Budget(train.size(), test.size(), epochs, width, batchSize);
        FarkasExperiment e = new FarkasExperiment(train, test, loaded.info(described), budget, seed, r.device(), r.dir());
        List<FarkasExperiment.Row> rows;
        try (ProgressListener.PerTask bars = new ProgressListener.PerTask()) {
            rows = e.run(chosen, bars);
        }
        Map<String, Object> metrics = r.metrics();
        metrics.put("data", described);
        metrics.put("budget", Map.of("train_size", train.size(), "test_size", test.size(), "epochs", epochs, "width", width,
                "batch_size", batchSize, "seed", seed));
        metrics.put("recipe", "SGD momentum 0.9, constant learning rate (0.1 unless the variant says), weight decay 5e-4 on weights, "
                + "standard initialization, no augmentation");
        metrics.put("claim", "without normalization, Farkas residual networks train at learning rate 0.1 where plain ones stall or diverge");
        metrics.put("variants", Json.toMap(e.report(rows)));
        r.write(metrics, described + ", width " + width + ", batch " + batchSize + ", " + epochs + " epoch(s)");
        System.out.printf("%-22s %-9s %9s %11s %9s %9s%n", "variant", "status", "test acc", "last loss", "diverged", "train s");
        for (FarkasExperiment.Row x : rows) {
            System.out.printf(Locale.ROOT, "%-22s %-9s %9.4f %11.4g %9s %9.1f%n", x.variant().name(), x.status(), x.testAccuracy(),
                    x.lastTrainLoss(), x.divergedAtStep() < 0 ? "-" : "step " + x.divergedAtStep(), x.trainSeconds());
        }
        r.outputs("index.html, results.csv, training_loss*.png, test_accuracy.png, metrics.json, one run per variant");
        return 0;
    }
}
