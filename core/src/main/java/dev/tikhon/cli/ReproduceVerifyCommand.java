package dev.tikhon.cli;

import dev.tikhon.experiments.VerifyExperiment;
import dev.tikhon.report.Json;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;

@Command(name = "verify", mixinStandardHelpOptions = true, sortOptions = false,
        description = "Verified robustness of the small CNN at ℓ∞ ε: undefended, PGD-7, IBP- and CROWN-IBP-trained; clean, robust "
                + "(attack ensemble) and verified (IBP, CROWN) accuracy, and the image-by-image check verified ≤ robust ≤ clean.")
final class ReproduceVerifyCommand implements Callable<Integer> {
    @Mixin DataOptions data = new DataOptions();

    @Option(names = "--eps", defaultValue = "0.1", description = "ℓ∞ radius (training and verification). Default: ${DEFAULT-VALUE}.")
    double eps;

    @Option(names = "--epochs", defaultValue = "3", description = "Epochs of the undefended and PGD-7 runs. Default: ${DEFAULT-VALUE}.")
    int epochs;

    @Option(names = "--certified-epochs", defaultValue = "10", description = "Epochs of the IBP and CROWN-IBP runs. Default: ${DEFAULT-VALUE}.")
    int certifiedEpochs;

    @Option(names = "--eps-warmup", defaultValue = "1", description = "Certified runs: clean epochs first. Default: ${DEFAULT-VALUE}.")
    double warmup;

    @Option(names = "--eps-ramp", description = "Certified runs: epochs of the ε/κ ramp. Default: half the epochs after the warm-up.")
    Double ramp;

    @Option(names = "--kappa-end", defaultValue = "0.5", description = "Default: ${DEFAULT-VALUE}.")
    double kappaEnd;

    @Option(names = "--batch-size", defaultValue = "128", description = "Default: ${DEFAULT-VALUE}.")
    int batchSize;

    @Option(names = "--optimizer", defaultValue = "adam", description = "Default: ${DEFAULT-VALUE}.")
    String optimizer;

    @Option(names = "--lr", defaultValue = "0.001", description = "Default: ${DEFAULT-VALUE}.")
    double lr;

    @Option(names = "--images", defaultValue = "1000", description = "Test images verified and attacked. Default: ${DEFAULT-VALUE}.")
    int images;

    @Option(names = "--attack-steps", defaultValue = "20", description = "APGD steps of the ensemble. Default: ${DEFAULT-VALUE}.")
    int attackSteps;

    @Option(names = "--targets", defaultValue = "3", description = "APGD-T target classes. Default: ${DEFAULT-VALUE}.")
    int targets;

    @Option(names = "--queries", defaultValue = "300", description = "Square attack queries. Default: ${DEFAULT-VALUE}.")
    int queries;

    @Option(names = "--bound-batch", defaultValue = "25", description = "Images per bound computation. Default: ${DEFAULT-VALUE}.")
    int boundBatch;

    @Option(names = "--train-images", defaultValue = "0", description = "Train on the first N training images (0: all 60,000). Default: ${DEFAULT-VALUE}.")
    int trainImages;

    @Option(names = "--variants", split = ",", description = "A subset of: undefended, pgd-7, ibp, crown-ibp. Default: all.")
    List<String> variants;

    @Option(names = "--seed", defaultValue = "0", description = "Default: ${DEFAULT-VALUE}.")
    long seed;

    @Mixin ReproduceOptions reproduce = new ReproduceOptions();

    @picocli.CommandLine.Spec picocli.CommandLine.Model.CommandSpec spec;

    @Override public Integer call() {
        double r = ramp != null ? ramp : Math.max(0, (certifiedEpochs - warmup) / 2);
        VerifyExperiment.Config c = new VerifyExperiment.Config(eps, epochs, certifiedEpochs, warmup, r, kappaEnd, batchSize, optimizer, lr,
                seed, images, attackSteps, targets, queries, boundBatch, trainImages);
        List<VerifyExperiment.Variant> chosen = ReproduceOptions.chosen(variants, VerifyExperiment.variants(c), VerifyExperiment.Variant::name);
        ReproduceOptions.Reproduction run = reproduce.start("verify");
        DataOptions.Loaded loaded = run.data(data, seed);
        OptionChecks.noteCapped(spec, "--images", images, "test", loaded.sets().test(), "verifying and attacking");
        VerifyExperiment e = new VerifyExperiment(loaded.sets(), loaded.info(), c, run.device(), run.dir());
        List<VerifyExperiment.Row> rows = ProgressListener.perVariant(listeners -> e.run(chosen, listeners));
        Map<String, Object> metrics = run.metrics();
        metrics.put("data", loaded.description());
        metrics.put("config", c);
        metrics.put("claim", "certified training (CROWN-IBP) reaches about 0.78 verified accuracy at ℓ∞ ε = 0.1 on Fashion-MNIST; "
                + "verified ≤ robust ≤ clean image by image");
        metrics.put("variants", Json.toMap(e.report(rows)));
        run.write(metrics, loaded.description() + ", small CNN, ℓ∞ ε = " + eps);
        System.out.printf("%-12s %7s %7s %7s %9s %9s %6s %9s%n", "variant", "epochs", "clean", "robust", "ver IBP", "ver CROWN", "viol", "train s");
        for (VerifyExperiment.Row x : rows) {
            System.out.printf(Locale.ROOT, "%-12s %7d %7.4f %7.4f %9.4f %9.4f %6d %9.1f%n", x.variant(), x.epochs(), x.clean(), x.robust(),
                    x.verifiedIbp(), x.verifiedCrown(), x.violations() + x.orderViolations(), x.trainSeconds());
        }
        run.outputs("index.html, results.csv, metrics.json, one run per variant with verify.csv");
        return rows.stream().anyMatch(x -> x.violations() + x.orderViolations() > 0) ? 1 : 0;
    }
}
