package dev.tikhon.cli;

import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.nio.file.Path;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;

/** {@code tikhon reproduce certify}: its options and console report; the experiment itself is in {@code experiments/}. */
@Command(name = "certify", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Small CNN on Fashion-MNIST: undefended, noise-trained σ 0.25 and 0.5 (randomized smoothing, Cohen's CERTIFY), "
                + "and the undefended model heat-smoothed with σ 0.25 (revision and v1 schedules, label-free), certified on the "
                + "first --images test images. Certified accuracy at r = 0, 0.25, 0.5, 0.75, 1; clean accuracy; time per image; "
                + "single-pass classification against PREDICT with --predict-n samples. Resumable: rerun to continue training."})
final class ReproduceCertify implements Callable<Integer> {
    @Mixin DataOptions data = new DataOptions();

    @Option(names = "--epochs", defaultValue = "3", description = "Epochs of the base models. Default: ${DEFAULT-VALUE}.")
    int epochs;

    @Option(names = "--images", defaultValue = "100", description = "Test images certified per variant. Default: ${DEFAULT-VALUE}.")
    int images;

    @Option(names = "--n", defaultValue = "10000", description = "CERTIFY's N. Default: ${DEFAULT-VALUE}.")
    int n;

    @Option(names = "--predict-n", defaultValue = "100000", description = "PREDICT's N for the speed-up. Default: ${DEFAULT-VALUE}.")
    int predictN;

    @Option(names = "--predict-images", defaultValue = "3", description = "Images PREDICT is timed on. Default: ${DEFAULT-VALUE}.")
    int predictImages;

    @Option(names = "--smooth-subset", defaultValue = "0", description = "Training images used by the revision schedule (0: all). Default: ${DEFAULT-VALUE}.")
    int smoothSubset;

    @Option(names = "--v1-subset", defaultValue = "0", description = "Training images used by each v1 step (0: all). Default: ${DEFAULT-VALUE}.")
    int v1Subset;

    @Option(names = "--kappa", defaultValue = "3", description = "κ of both schedules. Default: ${DEFAULT-VALUE}.")
    int kappa;

    @Option(names = "--v1-steps", defaultValue = "5", description = "n_T of the v1 schedule. Default: ${DEFAULT-VALUE}.")
    int v1Steps;

    @Option(names = "--v1-lambda", defaultValue = "5", description = "λ of the v1 schedule. Default: ${DEFAULT-VALUE}.")
    double v1Lambda;

    @Option(names = "--smooth-lr", defaultValue = "1e-4", description = "Adam learning rate of smoothing. Default: ${DEFAULT-VALUE}.")
    double smoothLr;

    @Option(names = "--seed", defaultValue = "0", description = "Default: ${DEFAULT-VALUE}.")
    long seed;

    @Option(names = "--train-images", defaultValue = "0",
            description = "Train on the first N training images, for a quick look (0: all of them). Default: ${DEFAULT-VALUE}.")
    int trainImages;

    @Mixin ReproduceOptions reproduce = new ReproduceOptions();

    @picocli.CommandLine.Spec picocli.CommandLine.Model.CommandSpec spec;

    @Override public Integer call() {
        OptionChecks.checkMonteCarloN(n, dev.tikhon.certify.RandomizedSmoothing.DEFAULT_ALPHA);
        ReproduceOptions.Reproduction r = reproduce.start("certify");
        DataOptions.Loaded loaded = r.data(data, seed, trainImages);
        OptionChecks.noteCapped(spec, "--images", images, "test", loaded.sets().test(), "certifying");
        dev.tikhon.certify.HeatConfig revision = new dev.tikhon.certify.HeatConfig("revision", 0.25, 1, kappa, 0.01, 1, 1);
        dev.tikhon.certify.HeatConfig v1 = new dev.tikhon.certify.HeatConfig("v1", 0.25, v1Lambda, kappa, 0.1, v1Steps, 1);
        dev.tikhon.experiments.CertifyExperiment.Budget budget = new dev.tikhon.experiments.CertifyExperiment.Budget(epochs,
                smoothSubset, v1Subset, revision, v1, smoothLr, images, n, predictN, predictImages, seed);
        dev.tikhon.experiments.CertifyExperiment e = new dev.tikhon.experiments.CertifyExperiment(loaded.sets(), loaded.info(), budget,
                r.device(), r.dir());
        dev.tikhon.experiments.CertifyExperiment.Result result;
        try (ProgressListener.PerTask bars = new ProgressListener.PerTask()) {
            result = e.run(bars);
        }
        Map<String, Object> metrics = r.metrics();
        metrics.put("data", loaded.description());
        metrics.put("claim", "heat smoothing certifies comparably to randomized smoothing while classifying in one pass "
                + "(goal: ≥ 10,000× faster classification than PREDICT with N = 100,000)");
        metrics.put("budget", result.budget());
        metrics.put("variants", result.variants());
        metrics.put("classification_speedup", dev.tikhon.report.Json.toMap(result.classificationSpeedup()));
        metrics.put("rows", result.rows());
        r.write(metrics, loaded.description() + ", small CNN, " + images + " test images, N " + n);
        System.out.println(java.nio.file.Files.exists(r.run().resolve("results.csv")) ? readTable(r.run().resolve("results.csv")) : "");
        dev.tikhon.experiments.CertifyExperiment.Speedup speed = result.classificationSpeedup();
        System.out.printf(Locale.ROOT, "classification: single pass %.3f ms/image, PREDICT (N %d) %.1f ms/image: %.0f× faster%n",
                speed.singlePassMsPerImage(), predictN, speed.predictMsPerImage(), speed.speedup());
        r.outputs("index.html, results.csv, certified_accuracy.png, metrics.json");
        return 0;
    }

    private static String readTable(Path csv) {
        try {
            return java.nio.file.Files.readString(csv);
        } catch (java.io.IOException e) {
            return "";
        }
    }
}
