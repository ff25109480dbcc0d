package dev.tikhon.cli;

import dev.tikhon.data.DataSets;
import dev.tikhon.engine.Device;
import dev.tikhon.experiments.FarkasExperiment;
import dev.tikhon.experiments.LipschitzNoiseExperiment;
import dev.tikhon.experiments.TikhonovExperiment;
import dev.tikhon.report.RunDirectory;
import dev.tikhon.train.DataInfo;
import dev.tikhon.train.TrainConfig;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;

/** {@code tikhon reproduce}: the experiments that test the papers' claims. */
@Command(name = "reproduce", mixinStandardHelpOptions = true,
        description = "Run an experiment that tests a claim of the papers, with a report.",
        subcommands = {ReproduceCommand.Tikhonov.class, ReproduceVerifyCommand.class, ReproduceCommand.Lipschitz.class, ReproduceCommand.Farkas.class,
                ReproduceCommand.Certify.class, ReproduceCommand.Rnode.class,
                ReproduceCommand.Ek.class})
final class ReproduceCommand implements Runnable {
    @picocli.CommandLine.Spec picocli.CommandLine.Model.CommandSpec spec;

    @Override public void run() {
        spec.commandLine().usage(System.out);
    }

    @Command(name = "tikhonov", mixinStandardHelpOptions = true, sortOptions = false,
            description = {"Small CNN on Fashion-MNIST: undefended, Tikhonov by finite differences (λ 0.1, 1), by double backprop "
                    + "(λ 0.1), PGD-7 adversarial training (ℓ∞, ε 0.1) and Gaussian noise (σ 0.25). Clean accuracy, mean and max ‖∇ₓℓ‖, "
                    + "training time. Resumable: rerun the same command to continue."})
    static final class Tikhonov implements Callable<Integer> {
        @Mixin DataOptions data = new DataOptions();

        @Option(names = "--epochs", defaultValue = "3", description = "Default: ${DEFAULT-VALUE}.")
        int epochs;

        @Option(names = "--variants", split = ",", description = "A subset of: undefended, tikhonov-fd-0.1, tikhonov-fd-1, "
                + "tikhonov-exact-0.1, pgd-7, noise-0.25. Default: all.")
        List<String> variants;

        @Option(names = "--seed", defaultValue = "0", description = "Default: ${DEFAULT-VALUE}.")
        long seed;

        @Option(names = "--robust-images", paramLabel = "N", defaultValue = "500",
                description = "Attack the first N test images of each variant for the robustness columns (ℓ∞ ensemble at 2/255 and 8/255, "
                        + "DDN median ℓ2 distance, L-bound); 0 skips them. Default: ${DEFAULT-VALUE}.")
        int robustImages;

        @Option(names = "--out", paramLabel = "DIR", description = "Default: runs/reproduce-tikhonov.")
        Path out;

        @Mixin RuntimeOptions runtime = new RuntimeOptions();

        @Override public Integer call() {
            Device device = runtime.apply();
            Path dir = out != null ? out : Path.of("runs", "reproduce-tikhonov");
            RunDirectory run = RunDirectory.create(dir);
            String name = data.nameOr(DataOptions.DEFAULT);
            DataSets.Loaded loaded = DataSets.load(name, data.dir, System.getenv(), seed);
            System.out.println("data:   " + loaded.description());
            List<TikhonovExperiment.Variant> chosen = TikhonovExperiment.variants().stream()
                    .filter(v -> variants == null || variants.contains(v.name())).toList();
            if (chosen.isEmpty()) throw new IllegalArgumentException("--variants matched none of " + TikhonovExperiment.variants());
            TrainConfig base = TrainConfig.builder().epochs(epochs).seed(seed).evalBatchSize(256).build();
            TikhonovExperiment e = new TikhonovExperiment(loaded, new DataInfo(name, data.dir == null ? null : data.dir.toString(),
                    loaded.description()), base, device, dir,
                    robustImages > 0 ? TikhonovExperiment.RobustnessSettings.standard(robustImages, seed) : null);
            List<ProgressListener> bars = new java.util.ArrayList<>();
            List<TikhonovExperiment.Row> rows;
            try {
                rows = e.run(chosen, variant -> {
                    bars.forEach(ProgressListener::close);
                    ProgressListener p = new ProgressListener(variant);
                    bars.add(p);
                    return p;
                });
            } finally {
                bars.forEach(ProgressListener::close);
            }
            Map<String, Object> metrics = RunReport.header("reproduce tikhonov", device);
            metrics.put("data", loaded.description());
            metrics.put("epochs", epochs);
            metrics.put("claim", "finite-difference Tikhonov regularization shrinks input-gradient norms by an order of magnitude "
                    + "at a few points of clean accuracy, at a fraction of the cost of adversarial training");
            metrics.put("variants", e.report(rows));
            run.writeMetrics(metrics);
            run.writeIndex("Tikhon: reproduce tikhonov", loaded.description() + ", small CNN, " + epochs + " epochs", metrics);
            System.out.printf("%-20s %8s %12s %12s %10s%s%n", "variant", "test acc", "mean ‖∇ℓ‖₂", "max ‖∇ℓ‖₂", "train s",
                    robustImages > 0 ? String.format("%10s %10s %10s %10s", "rob 2/255", "rob 8/255", "med ℓ2 d", "med L-bd") : "");
            for (TikhonovExperiment.Row r : rows) {
                String robust = "";
                if (r.robustness() != null) {
                    double[] a = r.robustness().linfRobustAccuracy();
                    robust = String.format(Locale.ROOT, "%10.4f %10.4f %10.4g %10.4g", a[0], a[1], r.robustness().medianL2Distance(),
                            r.robustness().medianL2LBound());
                }
                System.out.printf(Locale.ROOT, "%-20s %8.4f %12.4g %12.4g %10.1f%s%n", r.variant(), r.testAccuracy(), r.norms().l2Mean(),
                        r.norms().l2Max(), r.trainSeconds(), robust);
            }
            System.out.println("outputs: " + dir.toAbsolutePath() + " (index.html, results.csv, metrics.json, one run per variant)");
            return 0;
        }
    }

    @Command(name = "lipschitz", mixinStandardHelpOptions = true, sortOptions = false,
            description = {"Label noise: a 2-D problem (clean label 1 above x₂ = ½ sin πx₁) with 10% of training labels flipped; "
                    + "an MLP trained unregularized and with the Lipschitz penalty (cross-entropy + λ · max ‖∇ₓℓ‖) at growing training-set "
                    + "sizes. Error against the clean labels, memorized flips, model and data Lipschitz constants, decision maps. "
                    + "Resumable: rerun the same command to continue."})
    static final class Lipschitz implements Callable<Integer> {
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

        @Option(names = "--out", paramLabel = "DIR", description = "Default: runs/reproduce-lipschitz.")
        Path out;

        @Mixin RuntimeOptions runtime = new RuntimeOptions();

        @Override public Integer call() {
            Device device = runtime.apply();
            Path dir = out != null ? out : Path.of("runs", "reproduce-lipschitz");
            RunDirectory run = RunDirectory.create(dir);
            List<LipschitzNoiseExperiment.Variant> variants = new java.util.ArrayList<>();
            variants.add(new LipschitzNoiseExperiment.Variant("unregularized", dev.tikhon.train.ObjectiveSpec.plain()));
            for (double w : lipWeights) {
                if (!(w > 0)) throw new IllegalArgumentException("--lip-weights must be positive, got " + w);
                variants.add(new LipschitzNoiseExperiment.Variant("lipschitz-" + w,
                        new dev.tikhon.train.ObjectiveSpec("lipschitz", 0, 1e-3, "l2", false, 0, w, 0, 0, 0, 0, false)));
            }
            if (!(flip >= 0 && flip < 0.5)) throw new IllegalArgumentException("--flip must be in [0, 0.5), got " + flip);
            LipschitzNoiseExperiment.Settings settings = new LipschitzNoiseExperiment.Settings(sizes, flip, hidden, steps, batchSize, lr,
                    seeds, testPoints, plotSizes, variants);
            LipschitzNoiseExperiment e = new LipschitzNoiseExperiment(settings, device, dir);
            long t0 = System.nanoTime();
            List<LipschitzNoiseExperiment.Row> rows = e.run(System.out::println);
            Map<String, Object> metrics = RunReport.header("reproduce lipschitz", device);
            metrics.put("claim", "with corrupted labels, the Lipschitz-regularized minimizer converges to a regularized label function "
                    + "rather than to the noise (Oberman & Calder); error against the clean labels should fall with n for the "
                    + "regularized model while the unregularized one fits the flipped labels");
            metrics.put("settings", settings.toString());
            metrics.put("summary", e.report(rows));
            metrics.put("wall_seconds", (System.nanoTime() - t0) / 1e9);
            run.writeMetrics(metrics);
            run.writeIndex("Tikhon: reproduce lipschitz (label noise)", "2-D sine boundary, " + flip + " of training labels flipped", metrics);
            System.out.println("outputs: " + dir.toAbsolutePath() + " (index.html, results.csv, summary.csv, clean_error_vs_n.png, map-*.png)");
            return 0;
        }
    }

    @Command(name = "farkas", mixinStandardHelpOptions = true, sortOptions = false,
            description = {"Deep residual networks without batch norm on Fashion-MNIST (SPEC §8): FarkasNet vs the plain ResNet vs the "
                    + "plain ResNet with batch norm at each --depths, SGD momentum 0.9, constant lr 0.1, weight decay 5e-4, standard "
                    + "init; with --search also zero-last, warm-up and lr 0.01 at the first depth. Per-step training-loss curves, test "
                    + "accuracy, trains/stalled/diverged. Resumable: rerun the same command to continue."})
    static final class Farkas implements Callable<Integer> {
        @Mixin DataOptions data = new DataOptions();

        @Option(names = "--depths", split = ",", defaultValue = "20,56", description = "Default: ${DEFAULT-VALUE}.")
        List<Integer> depths;

        @Option(names = "--search", negatable = true, defaultValue = "true",
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

        @Option(names = "--out", paramLabel = "DIR", description = "Default: runs/reproduce-farkas.")
        Path out;

        @Mixin RuntimeOptions runtime = new RuntimeOptions();

        @Override public Integer call() {
            Device device = runtime.apply();
            Path dir = out != null ? out : Path.of("runs", "reproduce-farkas");
            RunDirectory run = RunDirectory.create(dir);
            String name = data.nameOr(DataOptions.DEFAULT);
            DataSets.Loaded loaded = DataSets.load(name, data.dir, System.getenv(), seed);
            var train = loaded.train().head(trainSize);
            var test = loaded.test().head(testSize);
            String described = loaded.description() + "; first " + train.size() + " training and " + test.size() + " test images";
            System.out.println("data:   " + described);
            List<FarkasExperiment.Variant> chosen = FarkasExperiment.variants(depths, search).stream()
                    .filter(v -> variants == null || variants.contains(v.name())).toList();
            if (chosen.isEmpty()) {
                throw new dev.tikhon.UserError("--variants matched none of " + FarkasExperiment.variants(depths, search).stream()
                        .map(FarkasExperiment.Variant::name).toList());
            }
            FarkasExperiment.Budget budget = new FarkasExperiment.Budget(train.size(), test.size(), epochs, width, batchSize);
            FarkasExperiment e = new FarkasExperiment(train, test, new DataInfo(name, data.dir == null ? null : data.dir.toString(),
                    described), budget, seed, device, dir);
            List<ProgressListener> bars = new java.util.ArrayList<>();
            List<FarkasExperiment.Row> rows;
            try {
                rows = e.run(chosen, variant -> {
                    bars.forEach(ProgressListener::close);
                    ProgressListener p = new ProgressListener(variant);
                    bars.add(p);
                    return p;
                });
            } finally {
                bars.forEach(ProgressListener::close);
            }
            Map<String, Object> metrics = RunReport.header("reproduce farkas", device);
            metrics.put("data", described);
            metrics.put("budget", Map.of("train_size", train.size(), "test_size", test.size(), "epochs", epochs, "width", width,
                    "batch_size", batchSize, "seed", seed));
            metrics.put("recipe", "SGD momentum 0.9, constant learning rate (0.1 unless the variant says), weight decay 5e-4 on weights, "
                    + "standard initialization, no augmentation");
            metrics.put("claim", "without normalization, Farkas residual networks train at learning rate 0.1 where plain ones stall or diverge");
            metrics.put("variants", e.report(rows));
            run.writeMetrics(metrics);
            run.writeIndex("Tikhon: reproduce farkas", described + ", width " + width + ", batch " + batchSize + ", " + epochs
                    + " epoch(s)", metrics);
            System.out.printf("%-22s %-9s %9s %11s %9s %9s%n", "variant", "status", "test acc", "last loss", "diverged", "train s");
            for (FarkasExperiment.Row r : rows) {
                System.out.printf(Locale.ROOT, "%-22s %-9s %9.4f %11.4g %9s %9.1f%n", r.variant().name(), r.status(), r.testAccuracy(),
                        r.lastTrainLoss(), r.divergedAtStep() < 0 ? "-" : "step " + r.divergedAtStep(), r.trainSeconds());
            }
            System.out.println("outputs: " + dir.toAbsolutePath() + " (index.html, results.csv, training_loss*.png, test_accuracy.png, metrics.json, one run per variant)");
            return 0;
        }
    }

    @Command(name = "certify", mixinStandardHelpOptions = true, sortOptions = false,
            description = {"Small CNN on Fashion-MNIST: undefended, noise-trained σ 0.25 and 0.5 (randomized smoothing, Cohen's CERTIFY), "
                    + "and the undefended model heat-smoothed with σ 0.25 (revision and v1 schedules, label-free), certified on the "
                    + "first --images test images. Certified accuracy at r = 0, 0.25, 0.5, 0.75, 1; clean accuracy; time per image; "
                    + "single-pass classification against PREDICT with --predict-n samples. Resumable: rerun to continue training."})
    static final class Certify implements Callable<Integer> {
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

        @Option(names = "--out", paramLabel = "DIR", description = "Default: runs/reproduce-certify.")
        Path out;

        @Mixin RuntimeOptions runtime = new RuntimeOptions();

        @Override public Integer call() {
            Device device = runtime.apply();
            Path dir = out != null ? out : Path.of("runs", "reproduce-certify");
            RunDirectory run = RunDirectory.create(dir);
            String name = data.nameOr(DataOptions.DEFAULT);
            DataSets.Loaded loaded = DataSets.load(name, data.dir, System.getenv(), seed);
            System.out.println("data:   " + loaded.description());
            dev.tikhon.certify.HeatConfig revision = new dev.tikhon.certify.HeatConfig("revision", 0.25, 1, kappa, 0.01, 1, 1);
            dev.tikhon.certify.HeatConfig v1 = new dev.tikhon.certify.HeatConfig("v1", 0.25, v1Lambda, kappa, 0.1, v1Steps, 1);
            dev.tikhon.experiments.CertifyExperiment.Budget budget = new dev.tikhon.experiments.CertifyExperiment.Budget(epochs,
                    smoothSubset, v1Subset, revision, v1, smoothLr, images, n, predictN, predictImages, seed);
            dev.tikhon.experiments.CertifyExperiment e = new dev.tikhon.experiments.CertifyExperiment(loaded,
                    new DataInfo(name, data.dir == null ? null : data.dir.toString(), loaded.description()), budget, device, dir);
            List<ProgressListener> bars = new java.util.ArrayList<>();
            Map<String, Object> result;
            try {
                result = e.run(variant -> {
                    bars.forEach(ProgressListener::close);
                    ProgressListener p = new ProgressListener(variant);
                    bars.add(p);
                    return p;
                });
            } finally {
                bars.forEach(ProgressListener::close);
            }
            Map<String, Object> metrics = RunReport.header("reproduce certify", device);
            metrics.put("data", loaded.description());
            metrics.put("claim", "heat smoothing certifies comparably to randomized smoothing while classifying in one pass "
                    + "(goal: ≥ 10,000× faster classification than PREDICT with N = 100,000)");
            metrics.putAll(result);
            run.writeMetrics(metrics);
            run.writeIndex("Tikhon: reproduce certify", loaded.description() + ", small CNN, " + images + " test images, N " + n, metrics);
            System.out.println(java.nio.file.Files.exists(run.resolve("results.csv")) ? readTable(run.resolve("results.csv")) : "");
            @SuppressWarnings("unchecked")
            Map<String, Object> speed = (Map<String, Object>) result.get("classification_speedup");
            System.out.printf(Locale.ROOT, "classification: single pass %.3f ms/image, PREDICT (N %d) %.1f ms/image: %.0f× faster%n",
                    ((Number) speed.get("single_pass_ms_per_image")).doubleValue(), predictN,
                    ((Number) speed.get("predict_ms_per_image")).doubleValue(), ((Number) speed.get("speedup")).doubleValue());
            System.out.println("outputs: " + dir.toAbsolutePath() + " (index.html, results.csv, certified_accuracy.png, metrics.json)");
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

    @Command(name = "rnode", mixinStandardHelpOptions = true, sortOptions = false,
            description = {"Continuous normalizing flows on 2-D toy sets (and, with --datasets fashion-mnist, the multiscale image flow), unregularized against RNODE (kinetic + Jacobian, λ 0.01), same "
                    + "seed, batches, solver and iterations: NFE per iteration over training, wall time, held-out NLL with Dopri5 at "
                    + "1e-5 (exact divergence) and its NFE, density and sample plots. Resumable: rerun to continue."})
    static final class Rnode implements Callable<Integer> {
        @Option(names = "--datasets", split = ",", defaultValue = "8gaussians,checkerboard,rings",
                description = "2-D toy sets and/or fashion-mnist or mnist (the multiscale image flow). Default: ${DEFAULT-VALUE}.")
        List<String> datasets;

        @Option(names = "--data-dir", paramLabel = "DIR", description = "Where the image sets are (default: the usual places).")
        Path dataDir;

        @Option(names = "--image-iterations", defaultValue = "150", description = "Iterations of the image runs. Default: ${DEFAULT-VALUE}.")
        int imageIterations;

        @Option(names = "--image-batch-size", defaultValue = "32", description = "Default: ${DEFAULT-VALUE}.")
        int imageBatchSize;

        @Option(names = "--image-channels", defaultValue = "32", description = "Conv width of the image model (SPEC: 64). Default: ${DEFAULT-VALUE}.")
        int imageChannels;

        @Option(names = "--image-held-out", defaultValue = "200", description = "Test images for the held-out bits/dim. Default: ${DEFAULT-VALUE}.")
        int imageHeldOut;

        @Option(names = "--iterations", defaultValue = "1000", description = "Default: ${DEFAULT-VALUE}.")
        int iterations;

        @Option(names = "--batch-size", defaultValue = "512", description = "Default: ${DEFAULT-VALUE}.")
        int batchSize;

        @Option(names = "--solver", defaultValue = "dopri5",
                description = "Training solver: dopri5 (adaptive: NFE shows how hard the dynamics are) or rk4. Default: ${DEFAULT-VALUE}.")
        String solver;

        @Option(names = "--step", defaultValue = "0.25", description = "Step of a fixed-step training solver. Default: ${DEFAULT-VALUE}.")
        double step;

        @Option(names = "--tolerance", defaultValue = "1e-5", description = "atol = rtol of an adaptive training solver. Default: ${DEFAULT-VALUE}.")
        double tolerance;

        @Option(names = "--lambda", defaultValue = "0.01", description = "λ_K = λ_J of the RNODE runs. Default: ${DEFAULT-VALUE}.")
        double lambda;

        @Option(names = "--held-out", defaultValue = "5000", description = "Default: ${DEFAULT-VALUE}.")
        int heldOut;

        @Option(names = "--seed", defaultValue = "0", description = "Default: ${DEFAULT-VALUE}.")
        long seed;

        @Option(names = "--out", paramLabel = "DIR", description = "Default: runs/reproduce-rnode.")
        Path out;

        @Mixin RuntimeOptions runtime = new RuntimeOptions();

        @Override public Integer call() {
            Device device = runtime.apply();
            Path dir = out != null ? out : Path.of("runs", "reproduce-rnode");
            RunDirectory run = RunDirectory.create(dir);
            for (String d : datasets) dev.tikhon.flow.Flows.exampleShape(d);   // fail early on a bad name
            dev.tikhon.experiments.RnodeExperiment.Budget budget = new dev.tikhon.experiments.RnodeExperiment.Budget(datasets,
                    iterations, batchSize, solver, step, tolerance, lambda, heldOut, seed, imageIterations, imageBatchSize, imageChannels,
                    imageHeldOut);
            List<FlowCommand.BarListener> bars = new java.util.ArrayList<>();
            Map<String, Object> result = new dev.tikhon.experiments.RnodeExperiment(budget, device, run.path(), dataDir).run(name -> {
                FlowCommand.BarListener b = new FlowCommand.BarListener(name);
                bars.add(b);
                return b;
            });
            Map<String, Object> metrics = RunReport.header("reproduce rnode", device);
            metrics.put("claim", "RNODE (λ_K = λ_J = " + lambda + ") needs at least 2× fewer function evaluations and less wall time "
                    + "at equal or better NLL");
            metrics.putAll(result);
            run.writeMetrics(metrics);
            run.writeIndex("Tikhon: reproduce rnode", "CNF on " + String.join(", ", datasets) + ", " + iterations + " iterations, "
                    + solver + " training", metrics);
            @SuppressWarnings("unchecked")
            List<Map<String, Object>> ratios = (List<Map<String, Object>>) result.get("ratios");
            for (Map<String, Object> r : ratios) {
                System.out.printf(Locale.ROOT, "%-13s RNODE/unregularized: NFE %.2f (last 10%%: %.2f), wall time %.2f, eval NFE %.2f; NLL %+.4f%n",
                        r.get("data"), r.get("nfe_total_ratio"), r.get("nfe_last_10pct_ratio"), r.get("wall_time_ratio"),
                        r.get("eval_nfe_ratio"), r.get("nll_difference"));
            }
            System.out.println("outputs: " + run.path() + " (index.html, results.csv, nfe-DATA.png, one run directory per data set and variant)");
            return 0;
        }
    }

    @Command(name = "ek", mixinStandardHelpOptions = true, sortOptions = false,
            description = {"Normalizing flows from entropy–Kantorovich potentials (SPEC §7) on the 2-D toy sets against the CNF trained "
                    + "by maximum likelihood with the same iterations, batch, learning rate and seed: held-out NLL (Dopri5 at 1e-5, exact "
                    + "divergence), density heatmaps and samples beside the data. Resumable: rerun to continue."})
    static final class Ek implements Callable<Integer> {
        @Option(names = "--datasets", split = ",", defaultValue = "8gaussians,checkerboard,2spirals,pinwheel,moons,circles,rings,swissroll",
                description = "2-D toy sets. Default: ${DEFAULT-VALUE}.")
        List<String> datasets;

        @Option(names = "--iterations", defaultValue = "1000", description = "Iterations of both methods (SPEC: 20000 for EK). Default: ${DEFAULT-VALUE}.")
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
}
