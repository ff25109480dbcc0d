package dev.tikhon.cli;

import dev.tikhon.UserError;
import dev.tikhon.certify.CertificationMethods;
import dev.tikhon.certify.CertificationRun;
import dev.tikhon.certify.RandomizedSmoothing;
import dev.tikhon.certify.SmoothedAttack;
import dev.tikhon.data.DataSets;
import dev.tikhon.data.Dataset;
import dev.tikhon.engine.Device;
import dev.tikhon.lipschitz.LipschitzCertifier;
import dev.tikhon.report.Charts;
import dev.tikhon.report.Csv;
import dev.tikhon.report.Progress;
import dev.tikhon.report.RunDirectory;
import dev.tikhon.scaleout.Cluster;
import dev.tikhon.scaleout.Runner;
import dev.tikhon.train.ObjectiveSpec;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;

/** {@code tikhon certify}: certified ℓ2 radii per image, certified accuracy, timings. */
@Command(name = "certify", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Certify a model's predictions against ℓ2 perturbations. --method cohen: randomized smoothing (Cohen et al.'s "
                + "CERTIFY; radius holds with probability 1 − α for the smoothed classifier). --method heat: a heat-smoothed model "
                + "(tikhon smooth) classified in one pass, with (a) CERTIFY on it with that class fixed, and the single-pass radii "
                + "(b) σ√(π/2)(v₁ − v₂) and (c) (σ/2)(Φ⁻¹(v₁) − Φ⁻¹(v₂)), which are heuristic: they hold only insofar as the model "
                + "is a Gaussian average. --method lipschitz: the sound one-pass certificate r = min_j (z_c − z_j)/L_cj from a provable "
                + "upper bound on the Lipschitz constant of each margin (docs/lipschitz.md), ℓ2 or ℓ∞ (--norm). Writes certify.csv, certified_accuracy.csv/.png, metrics.json, index.html."})
final class CertifyCommand implements Callable<Integer> {
    static {   // the sound Lipschitz certificate (dev.tikhon.lipschitz sits above certify, so it registers here)
        CertificationMethods.register("lipschitz", false, (model, s) -> LipschitzCertifier.plan(LipschitzCertifier.Norm.L2, 100));
    }

    @ArgGroup(exclusive = false, multiplicity = "1")
    ModelSource source;

    @Mixin DataOptions data = new DataOptions();

    @Option(names = "--method", required = true, description = "A certification method: cohen, heat or lipschitz.")
    String method;

    @Option(names = "--norm", defaultValue = "l2", description = "lipschitz: the threat model of the radius, l2 or linf (r₂/√d). Default: ${DEFAULT-VALUE}.")
    String norm;

    @Option(names = "--batch-size", defaultValue = "100", description = "lipschitz: images per forward pass. Default: ${DEFAULT-VALUE}.")
    int batchSize;

    @Option(names = "--sigma", description = "Noise σ. Default: the σ the checkpoint was trained or smoothed with.")
    Double sigma;

    @Option(names = "--images", defaultValue = "100", paramLabel = "M", description = "Certify the first M images of the split. Default: ${DEFAULT-VALUE}.")
    int images;

    @Option(names = "--split", defaultValue = "test", description = "test or train. Default: ${DEFAULT-VALUE}.")
    String split;

    @Option(names = "--n0", defaultValue = "" + dev.tikhon.certify.RandomizedSmoothing.DEFAULT_N0, description = "Selection samples N0 (cohen). Default: ${DEFAULT-VALUE}.")
    int n0;

    @Option(names = "--n", defaultValue = "" + dev.tikhon.certify.RandomizedSmoothing.DEFAULT_N, description = "Estimation samples N. Default: ${DEFAULT-VALUE}.")
    int n;

    @Option(names = "--alpha", defaultValue = "" + dev.tikhon.certify.RandomizedSmoothing.DEFAULT_ALPHA, description = "Failure probability α. Default: ${DEFAULT-VALUE}.")
    double alpha;

    @Option(names = "--noise-batch", defaultValue = "" + dev.tikhon.certify.RandomizedSmoothing.DEFAULT_NOISE_BATCH, description = "Noisy copies per forward pass. Default: ${DEFAULT-VALUE}.")
    int noiseBatch;

    @Option(names = "--predict-images", defaultValue = "0", paramLabel = "K",
            description = "cohen: also time PREDICT (N samples) on the first K images, as the classification cost. Default: ${DEFAULT-VALUE}.")
    int predictImages;

    @Option(names = "--monte-carlo", negatable = true, defaultValue = "true", fallbackValue = "true",
            description = "heat: also compute certificate (a) with N samples (--no-monte-carlo: single pass only). Default: on.")
    boolean monteCarlo;

    @Option(names = "--attack-steps", defaultValue = "0", paramLabel = "K",
            description = "Attack every certificate at 0.999 × its radius with ℓ2 PGD-K and count violations (0: no attack): the smoothed "
                    + "classifier of cohen and heat (a) (PGD on the noise-averaged softmax, judged by PREDICT with fresh noise), "
                    + "the model itself for heat (b), (c). Default: ${DEFAULT-VALUE}.")
    int attackSteps;

    @Option(names = "--attack-restarts", defaultValue = "2", description = "PGD runs per radius (the first from x, then random starts). Default: ${DEFAULT-VALUE}.")
    int attackRestarts;

    @Option(names = "--seed", defaultValue = "0", description = "Seed of the noise (per image: derived from seed and index). Default: ${DEFAULT-VALUE}.")
    long seed;

    @Option(names = "--out", paramLabel = "DIR", description = "Output directory. Default: runs/certify-<method>.")
    Path out;

    @Mixin RuntimeOptions runtime = new RuntimeOptions();

    @Mixin ClusterOptions cluster = new ClusterOptions();

    @Override public Integer call() {
        Device device = runtime.apply();
        CertificationMethods.Method method;
        try {
            method = CertificationMethods.get(this.method);
        } catch (IllegalArgumentException e) {
            throw new UserError(e.getMessage());
        }
        String m = method.name();
        if (m.equals("lipschitz")) return LipschitzCertify.run(this, device);
        RunDirectory run = RunDirectory.create(out != null ? out : Path.of("runs", "certify-" + m));
        ModelSource.Loaded model = source.load();
        double s = m.equals("heat") ? heatSigma(model, sigma) : sigma != null ? sigma : method.needsSigma() ? sigmaOf(model) : Double.NaN;
        String dataName = data.name != null ? data.name : model.meta() != null ? model.meta().data().name() : DataOptions.DEFAULT;
        Path dataDir = data.dir != null ? data.dir
                : (data.name == null && model.meta() != null && model.meta().data().dir() != null ? Path.of(model.meta().data().dir()) : null);
        DataSets.Loaded loaded = DataSets.load(dataName, dataDir, System.getenv(), seed);
        Dataset set = switch (split) {
            case "test" -> loaded.test();
            case "train" -> loaded.train();
            default -> throw new UserError("unknown --split '" + split + "': use test or train");
        };
        model.checkFits(set, loaded.description());
        model.model().to(device);
        RandomizedSmoothing rs = Double.isNaN(s) ? null
                : new RandomizedSmoothing(new RandomizedSmoothing.Config(s, n0, n, alpha, noiseBatch, seed));
        CertificationRun.Plan plan = method.factory().plan(model.model(),
                new CertificationMethods.Settings(s, rs != null ? rs.config() : null, monteCarlo, predictImages));
        int count = Math.min(images, set.size());
        System.out.println("data:   " + loaded.description() + " [" + split + ", first " + count + " images]");
        System.out.println("model:  " + model.name());
        System.out.println("method: " + plan.description());
        CertificationRun.Result r;
        Map<String, Object> metrics = RunReport.header("certify", device);
        long wall0 = System.nanoTime();
        try (Cluster c = cluster.connect()) {
            Runner runner = ClusterOptions.runner(c, source.ref(), model.model(), set, device, runtime.threads);
            try (Progress bar = Progress.start("certify " + m, count)) {
                r = CertificationRun.run(runner, model.model(), set, count, plan, device, bar);
            }
            double wall = (System.nanoTime() - wall0) / 1e9;
            metrics.put("wall_seconds", wall);
            metrics.put("images_per_second", count / wall);
            if (attackSteps > 0) metrics.put("attack", attack(runner, r, m, rs));
            if (c != null) metrics.put("spark", c.describe());
        }
        write(run, r, s, rs);
        metrics.put("model", model.name());
        metrics.put("data", loaded.description());
        metrics.put("split", split);
        if (rs != null) {
            metrics.put("sigma", s);
            metrics.put("smoothing", rs.config());
            metrics.put("max_certifiable_radius", rs.maxRadius());
        }
        metrics.put("result", r.summary());
        run.writeMetrics(metrics);
        run.writeIndex("Tikhon certification: " + m, model.name() + " on " + loaded.description() + (rs != null ? ", σ " + s : ""), metrics);
        print(r);
        System.out.println("outputs: " + run.path() + " (certify.csv, certified_accuracy.csv/.png, metrics.json, index.html)");
        return 0;
    }

    /**
     * The soundness check of {@code --attack-steps}: each randomized-smoothing certificate (cohen, heat (a)) attacked
     * through the smoothed classifier, and heat's single-pass radii (b), (c) attacked on the model; prints one line per
     * certificate and returns the counts for metrics.json.
     */
    private Map<String, Object> attack(Runner runner, CertificationRun.Result r, String m, RandomizedSmoothing rs) {
        Map<String, Object> a = new java.util.LinkedHashMap<>();
        a.put("attack", "l2 PGD-" + attackSteps + ", " + attackRestarts + " runs, at 0.999 x radius");
        String smoothed = m.equals("cohen") ? "cohen" : r.certificateNames().contains("a") ? "a" : null;
        if (smoothed != null) {
            RandomizedSmoothing.Config c = rs.config();
            RandomizedSmoothing.Config judge = new RandomizedSmoothing.Config(c.sigma(), c.n0(), c.n(), c.alpha(), c.batchSize(),
                    dev.tikhon.engine.Rng.derive(seed, 0x6a756467L));
            SmoothedAttack.Tally t;
            try (Progress bar = Progress.start("attack (" + smoothed + ") through the smoothed classifier", CertificationRun.attackableSmoothed(r, smoothed))) {
                t = CertificationRun.attackSmoothed(runner, r, smoothed, judge,
                        new SmoothedAttack.Settings(0.999, attackSteps, attackRestarts, 16, false, seed), bar);
            }
            a.put(smoothed, Map.of("tested", t.tested(), "broken", t.broken(), "judge_abstained", t.abstained()));
            System.out.printf(Locale.ROOT, "PGD-%d inside radius (%s): broke %d of %d certificates (PREDICT abstained on %d)%n", attackSteps,
                    smoothed, t.broken(), t.tested(), t.abstained());
        }
        if (m.equals("heat")) {
            Map<String, long[]> attacked;
            long tested = r.images().stream().filter(CertificationRun::attackable).count();
            try (Progress bar = Progress.start("attack (b), (c) with PGD-" + attackSteps, tested)) {
                attacked = CertificationRun.attackSinglePass(runner, r, 0.999, attackSteps, attackRestarts, seed, bar);
            }
            attacked.forEach((k, v) -> {
                a.put(k, Map.of("tested", v[0], "broken", v[1]));
                System.out.printf(Locale.ROOT, "PGD-%d inside radius (%s): broke %d of %d single-pass certificates%n", attackSteps, k, v[1], v[0]);
            });
        }
        return a;
    }

    /** The σ a checkpoint was noise-trained or heat-smoothed with. */
    static double sigmaOf(ModelSource.Loaded model) {
        if (model.meta() != null) {
            ObjectiveSpec o = model.meta().config().objective();
            if ((o.reg().equals("noise") || o.reg().startsWith("heat")) && !Double.isNaN(o.number("sigma"))) return o.number("sigma");
        }
        throw new UserError("--sigma is needed: the model was not noise-trained or heat-smoothed by Tikhon");
    }

    /**
     * The σ of a heat certification. Radii (b) and (c) read σ off a model that is assumed to be its own Gaussian average
     * at that σ, so they mean nothing on a model that was never heat-smoothed, or at another σ than it was smoothed
     * with. For a checkpoint Tikhon knows which: either is an error (exit 2) rather than a warning, because the run
     * would print and save certified-accuracy tables that look like results; certificate (a) alone is what
     * {@code --method cohen} gives. A TorchScript file records nothing, so its σ is taken on trust from --sigma, and a
     * note on stdout says so.
     */
    static double heatSigma(ModelSource.Loaded model, Double sigma) {
        if (model.meta() == null) {
            if (sigma == null) throw new UserError("--sigma is needed: the model was not noise-trained or heat-smoothed by Tikhon");
            System.out.println("note:   " + model.name() + " is taken to be heat-smoothed at σ " + sigma + " (a TorchScript file does not "
                    + "record it); radii (b), (c) are heuristic and mean nothing if it was not");
            return sigma;
        }
        ObjectiveSpec o = model.meta().config().objective();
        if (!o.reg().startsWith("heat")) {
            throw new UserError("--method heat: " + model.file() + " was never heat-smoothed (trained with " + model.meta().objective()
                    + "), so its single-pass radii (b), (c) would mean nothing; run 'tikhon smooth' on it first, or use --method cohen");
        }
        double smoothedWith = o.number("sigma");
        if (sigma != null && Math.abs(sigma - smoothedWith) > 1e-12 * Math.max(1, smoothedWith)) {
            throw new UserError("--sigma " + sigma + " differs from the σ " + smoothedWith + " that " + model.file() + " was heat-smoothed "
                    + "with; radii (b), (c) hold only at that σ: drop --sigma");
        }
        return smoothedWith;
    }

    static void write(RunDirectory run, CertificationRun.Result r, double sigma, RandomizedSmoothing rs) {
        r.writeCsv(run.resolve("certify.csv"));
        List<String> header = new ArrayList<>(List.of("certificate", "kind"));
        for (double radius : CertificationRun.RADII) header.add("r=" + radius);
        List<List<Object>> rows = new ArrayList<>();
        for (String c : r.certificateNames()) {
            List<Object> row = new ArrayList<>(List.of(c, r.images().get(0).certificates().get(c).kind().name().toLowerCase(Locale.ROOT)));
            for (double radius : CertificationRun.RADII) row.add(r.certifiedAccuracy(c, radius));
            rows.add(row);
        }
        Csv.write(run.resolve("certified_accuracy.csv"), header, rows);
        double largest = r.images().stream().flatMap(i -> i.certificates().values().stream())
                .mapToDouble(c -> c.abstained() ? 0 : c.radius()).filter(Double::isFinite).max().orElse(0);
        double max = rs != null ? Math.max(1.0, Math.min(rs.maxRadius(), 4 * sigma)) : Math.max(1.0, largest);
        Charts.line(run.resolve("certified_accuracy.png"), "Certified accuracy (" + r.method() + (rs != null ? ", σ " + sigma : "") + ")",
                "ℓ2 radius", "certified accuracy", r.curves(r.method() + " ", max));
    }

    static void print(CertificationRun.Result r) {
        StringBuilder h = new StringBuilder(String.format(Locale.ROOT, "%-12s", "certificate"));
        for (double radius : CertificationRun.RADII) h.append(String.format(Locale.ROOT, "  r=%-5s", radius));
        System.out.println(h);
        for (String c : r.certificateNames()) {
            StringBuilder line = new StringBuilder(String.format(Locale.ROOT, "%-12s", c));
            for (double radius : CertificationRun.RADII) line.append(String.format(Locale.ROOT, "  %7.3f", r.certifiedAccuracy(c, radius)));
            System.out.println(line);
        }
        System.out.printf(Locale.ROOT, "clean accuracy %.4f on %d images; classification %.3f ms/image, certification %.1f ms/image%n",
                r.cleanAccuracy(), r.images().size(), 1000 * r.meanClassifySeconds(), 1000 * r.meanCertifySeconds());
        if (!Double.isNaN(r.agreement())) System.out.printf(Locale.ROOT, "single pass agrees with the smoothed classifier on %.1f%% of images%n", 100 * r.agreement());
    }
}
