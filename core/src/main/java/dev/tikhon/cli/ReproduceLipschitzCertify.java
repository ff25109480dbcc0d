package dev.tikhon.cli;

import dev.tikhon.UserError;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;

/** {@code tikhon reproduce lipschitz-certify}: its options and console report; the experiment is {@code experiments/LipschitzCertifyExperiment}. */
@Command(name = "lipschitz-certify", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Sound one-pass certificates against randomized smoothing on Fashion-MNIST, on the same first test images: "
                + "(i) the undefended CNN and (ii) a Lipschitz-margin (GloRo) trained model with the sound Lipschitz certificate, "
                + "(iii) Cohen's CERTIFY on a noise-trained CNN (σ 0.25) and (iv) the heat-smoothed CNN with certificate (a), both "
                + "probabilistic. Certified accuracy at r = 0, 0.25, 0.5, 0.75, 1; clean accuracy; time per image; every sound "
                + "certificate attacked inside its radius (DDN on all, the ℓ2 ensemble on --ensemble-images), violations counted. "
                + "Resumable: rerun to continue training and Monte Carlo certification; soundness checks already done on the same models, "
                + "certificates and attacks are kept."})
final class ReproduceLipschitzCertify implements Callable<Integer> {
    @Mixin DataOptions data = new DataOptions();

    @Option(names = "--epochs", defaultValue = "2", description = "Epochs of the undefended and noise-trained CNNs. Default: ${DEFAULT-VALUE}.")
    int epochs;

    @Option(names = "--lip-model", defaultValue = "mlp", description = "Architecture of the Lipschitz-margin model: mlp or cnn. Default: ${DEFAULT-VALUE}.")
    String lipArch;

    @Option(names = "--lip-reg", defaultValue = "gloro", description = "gloro or lipschitz-margin. Default: ${DEFAULT-VALUE}.")
    String lipReg;

    @Option(names = "--lip-eps", defaultValue = "0.5", description = "ℓ2 radius ε the Lipschitz-margin model is trained for. Default: ${DEFAULT-VALUE}.")
    double lipEps;

    @Option(names = "--lip-epochs", defaultValue = "10", description = "Its epochs (Adam). Default: ${DEFAULT-VALUE}.")
    int lipEpochs;

    @Option(names = "--lip-lr", defaultValue = "0.001", description = "Its Adam learning rate. Default: ${DEFAULT-VALUE}.")
    double lipLr;

    @Option(names = "--smooth-subset", defaultValue = "0", description = "Training images of the heat-smoothing epoch (0: all). Default: ${DEFAULT-VALUE}.")
    int smoothSubset;

    @Option(names = "--kappa", defaultValue = "3", description = "κ of heat smoothing (revision schedule). Default: ${DEFAULT-VALUE}.")
    int kappa;

    @Option(names = "--smooth-lr", defaultValue = "1e-4", description = "Adam learning rate of smoothing. Default: ${DEFAULT-VALUE}.")
    double smoothLr;

    @Option(names = "--images", defaultValue = "500", description = "Test images of the sound certificates. Default: ${DEFAULT-VALUE}.")
    int images;

    @Option(names = "--mc-images", defaultValue = "500", description = "Test images of the Monte Carlo certificates (iii), (iv). Default: ${DEFAULT-VALUE}.")
    int mcImages;

    @Option(names = "--n", defaultValue = "10000", description = "CERTIFY's N. Default: ${DEFAULT-VALUE}.")
    int n;

    @Option(names = "--predict-images", defaultValue = "3", description = "Images PREDICT (N samples) is timed on. Default: ${DEFAULT-VALUE}.")
    int predictImages;

    @Option(names = "--ddn-images", defaultValue = "500", description = "Certified images per sound model attacked by DDN. Default: ${DEFAULT-VALUE}.")
    int ddnImages;

    @Option(names = "--ddn-steps", defaultValue = "100", description = "DDN steps of the soundness check. Default: ${DEFAULT-VALUE}.")
    int ddnSteps;

    @Option(names = "--ensemble-images", defaultValue = "100", description = "Certified images per sound model attacked by the ensemble. Default: ${DEFAULT-VALUE}.")
    int ensembleImages;

    @Option(names = "--attack-steps", defaultValue = "50", description = "APGD steps of the ensemble. Default: ${DEFAULT-VALUE}.")
    int attackSteps;

    @Option(names = "--seed", defaultValue = "0", description = "Default: ${DEFAULT-VALUE}.")
    long seed;

    @Option(names = "--train-images", defaultValue = "0",
            description = "Train on the first N training images, for a quick look (0: all of them). Default: ${DEFAULT-VALUE}.")
    int trainImages;

    @Mixin ReproduceOptions reproduce = new ReproduceOptions();

    @picocli.CommandLine.Spec picocli.CommandLine.Model.CommandSpec spec;

    @Override public Integer call() {
        OptionChecks.checkMonteCarloN(n, dev.tikhon.certify.RandomizedSmoothing.DEFAULT_ALPHA);
        ReproduceOptions.Reproduction r = reproduce.start("lipschitz-certify");
        if (!lipArch.equals("mlp") && !lipArch.equals("cnn")) throw new UserError("--lip-model must be mlp or cnn, got " + lipArch);
        if (!lipReg.equals("gloro") && !lipReg.equals("lipschitz-margin")) {
            throw new UserError("--lip-reg must be gloro or lipschitz-margin, got " + lipReg);
        }
        if (images < 1 || mcImages < 1) throw new UserError("--images and --mc-images must be at least 1");
        DataOptions.Loaded loaded = r.data(data, seed, trainImages);
        OptionChecks.noteCapped(spec, "--images", images, "test", loaded.sets().test(), "certifying");
        dev.tikhon.certify.HeatConfig heat = new dev.tikhon.certify.HeatConfig("revision", 0.25, 1, kappa, 0.01, 1, 1);
        dev.tikhon.experiments.LipschitzCertifyExperiment.Budget budget = new dev.tikhon.experiments.LipschitzCertifyExperiment.Budget(
                epochs, lipArch, lipReg, lipEps, lipEpochs, lipLr, smoothSubset, heat, smoothLr, images, mcImages, n, predictImages,
                ddnImages, ddnSteps, ensembleImages, attackSteps, seed);
        dev.tikhon.experiments.LipschitzCertifyExperiment e = new dev.tikhon.experiments.LipschitzCertifyExperiment(loaded.sets(),
                loaded.info(), budget, r.device(), r.dir());
        long t0 = System.nanoTime();
        dev.tikhon.experiments.LipschitzCertifyExperiment.Result result;
        try (ProgressListener.PerTask bars = new ProgressListener.PerTask()) {
            result = e.run(bars);
        }
        Map<String, Object> metrics = r.metrics();
        metrics.put("data", loaded.description());
        metrics.put("claim", "a sound one-pass Lipschitz certificate of a Lipschitz-margin trained model reaches certified accuracy ≥ 0.55 "
                + "at ℓ2 r = 0.5 with clean accuracy ≥ 0.75, within 0.10 of Cohen's probabilistic one, ≥ 10,000× faster per image");
        metrics.put("wall_seconds", (System.nanoTime() - t0) / 1e9);
        metrics.put("budget", result.budget());
        metrics.put("variants", result.variants());
        metrics.put("rows", result.rows());
        metrics.put("certification_speedup_over_cohen", result.certificationSpeedupOverCohen());
        r.write(metrics, loaded.description() + ", first " + images + " test images (Monte Carlo: " + mcImages + ", N " + n + ")");
        try {
            System.out.println(java.nio.file.Files.readString(r.run().resolve("results.csv")));
        } catch (java.io.IOException ex) {
            throw new java.io.UncheckedIOException(ex);
        }
        System.out.printf(Locale.ROOT, "certification: sound one-pass %.0f× faster per image than CERTIFY (N %d)%n",
                result.certificationSpeedupOverCohen(), n);
        r.outputs("index.html, results.csv, certified_accuracy.png, metrics.json, one folder per variant");
        return 0;
    }
}
