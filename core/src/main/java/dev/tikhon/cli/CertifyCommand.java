package dev.tikhon.cli;

import dev.tikhon.UserError;
import dev.tikhon.certify.CertificationLog;
import dev.tikhon.certify.CertificationMethods;
import dev.tikhon.certify.CertificationRun;
import dev.tikhon.certify.RandomizedSmoothing;
import dev.tikhon.data.Dataset;
import dev.tikhon.engine.Device;
import dev.tikhon.lipschitz.LipschitzCertifier;
import dev.tikhon.nn.ScriptedModel;
import dev.tikhon.report.Progress;
import dev.tikhon.report.RunDirectory;
import dev.tikhon.scaleout.Cluster;
import dev.tikhon.scaleout.Runner;
import dev.tikhon.train.ObjectiveSpec;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.Callable;

/** {@code tikhon certify}: certified radii per image (ℓ2; ℓ∞ for lipschitz --norm linf), certified accuracy, timings. */
@Command(name = "certify", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Certify a model's predictions against ℓ2 perturbations (every method) or ℓ∞ ones (--method lipschitz --norm linf; "
                + "its table then uses the radii 1/255 … 8/255). Every radius is reported with its kind: sound, probabilistic "
                + "(with α) or heuristic (not a certificate). --method cohen: randomized smoothing (Cohen et al.'s "
                + "CERTIFY; radius holds with probability 1 − α for the smoothed classifier). --method heat: a heat-smoothed model "
                + "(tikhon smooth) classified in one pass, with (a) CERTIFY on it with that class fixed, and the single-pass radii "
                + "(b) σ√(π/2)(v₁ − v₂) and (c) (σ/2)(Φ⁻¹(v₁) − Φ⁻¹(v₂)), which are heuristic: they hold only insofar as the model "
                + "is a Gaussian average. --method lipschitz: the sound one-pass certificate r = min_j (z_c − z_j)/L_cj from a provable "
                + "upper bound on the Lipschitz constant of each margin (docs/lipschitz.md), ℓ2 or ℓ∞ (--norm); ibp, crown, alpha-crown, bab: sound bound propagation (bab: branch and bound over CROWN). "
                + "Each image is recorded as it is certified (certify.jsonl, and certify.tsv in Cohen et al.'s format for an ℓ2 "
                + "probabilistic or sound first certificate, never a heuristic or ℓ∞ one), so a stopped run "
                + "continues with --resume (docs/runs.md); at the end certify.csv, certified_accuracy.csv/.png, metrics.json, index.html."})
final class CertifyCommand implements Callable<Integer>, RunFolder.Owner {
    static {   // the sound Lipschitz certificate (dev.tikhon.lipschitz sits above certify, so it registers here)
        CertificationMethods.register("lipschitz", false, (model, s) -> {
            if (model.modules().stream().anyMatch(m -> m instanceof ScriptedModel)) {   // TorchScript, also behind a Normalize
                throw new UserError("a TorchScript model's architecture is opaque to Tikhon, so no sound Lipschitz bound can be computed; "
                        + "use a Tikhon checkpoint (mlp, cnn, resnet, farkas-resnet) or --method cohen");
            }
            return LipschitzCertifier.plan(parseNorm(s.norm()), s.batchSize());
        });
    }

    @ArgGroup(exclusive = false, multiplicity = "1")
    ModelSource source;

    @Mixin DataOptions data = new DataOptions();

    @Option(names = "--method", required = true, description = "A certification method: cohen, heat, lipschitz, ibp, crown, alpha-crown or bab.")
    String method;

    @Option(names = "--norm", defaultValue = "l2", description = "lipschitz: the threat model of the radius, l2 or linf (r₂/√d). Default: ${DEFAULT-VALUE}.")
    String norm;

    @Option(names = "--batch-size", defaultValue = "100", description = "lipschitz, and heat with --no-monte-carlo: images per forward pass (classification time is then the batched cost per image; metrics also give one image's latency). Default: ${DEFAULT-VALUE}.")
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

    @Option(names = "--images-per-batch", defaultValue = "1", paramLabel = "K",
            description = "cohen, heat (a): certify K images together, their noisy copies sharing each forward pass (of K × "
                    + "--noise-batch), to fill a GPU that one image's copies leave idle. Certificates do not change; memory grows "
                    + "with K × --noise-batch. A unit of work (and what a killed run redoes) is then K images. Default: ${DEFAULT-VALUE}.")
    int imagesPerBatch;

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

    @Mixin SearchOptions search = new SearchOptions();

    @Option(names = "--account-rounding", description = "ibp, crown, alpha-crown, bab: radii that hold for the network's exact function, "
            + "floating-point rounding included (float64, each bound computation's rounding error added; docs/verification.md).")
    boolean accountRounding;

    @Option(names = "--seed", defaultValue = "0", description = "Seed of the noise (per image: derived from seed and index). Default: ${DEFAULT-VALUE}.")
    long seed;

    @Option(names = "--out", paramLabel = "DIR", description = "Output directory. Default: runs/certify-<method>.")
    Path out;

    @Mixin ResumeOptions resumeOptions = new ResumeOptions();

    @Mixin RuntimeOptions runtime = new RuntimeOptions();

    @Mixin ClusterOptions cluster = new ClusterOptions();

    @Spec CommandSpec spec;

    /** The methods that read each method-specific option; any other method ignores it. */
    private static final Map<String, Set<String>> READ_BY = Map.ofEntries(
            Map.entry("--sigma", Set.of("cohen", "heat")), Map.entry("--n0", Set.of("cohen")), Map.entry("--n", Set.of("cohen", "heat")),
            Map.entry("--alpha", Set.of("cohen", "heat")), Map.entry("--noise-batch", Set.of("cohen", "heat")),
            Map.entry("--images-per-batch", Set.of("cohen", "heat")), Map.entry("--predict-images", Set.of("cohen")),
            Map.entry("--monte-carlo", Set.of("heat")), Map.entry("--attack-steps", Set.of("cohen", "heat")),
            Map.entry("--attack-restarts", Set.of("cohen", "heat")), Map.entry("--batch-size", Set.of("lipschitz", "heat")),
            Map.entry("--bab-domains", Set.of("bab")), Map.entry("--bab-steps", Set.of("bab")), Map.entry("--bab-timeout", Set.of("bab")), Map.entry("--norm", Set.of("lipschitz")),
            Map.entry("--account-rounding", Set.of("ibp", "crown", "alpha-crown", "bab")));

    /**
     * A threat model the method does not certify is an error (its radii would be ℓ2 radii under an ℓ∞ name); any other
     * method-specific option the method does not read is a note, as it stays valid for other methods.
     */
    private void checkOptionsFor(String m) {
        if (!m.equals("lipschitz") && !norm.equalsIgnoreCase("l2")) {
            throw new UserError("--norm " + norm + ": --method " + m + " certifies ℓ2 radii only; for ℓ∞ use --method lipschitz --norm linf, "
                    + (Set.of("ibp", "crown", "alpha-crown", "bab").contains(m)
                    ? "or 'tikhon verify --method " + m + " --norm linf --radius MAX' for each image's largest verified ℓ∞ radius" : "or drop --norm"));
        }
        if (m.equals("cohen") || m.equals("heat") && monteCarlo) OptionChecks.checkMonteCarloN(n, alpha);
        if (spec == null) return;
        for (var o : spec.options()) {
            String name = o.longestName();
            if (!OptionChecks.given(spec, name)) continue;
            Set<String> readers = READ_BY.get(name);
            boolean unread = readers != null && !readers.contains(m)
                    // heat reads the Monte Carlo settings only with its certificate (a), and --batch-size only without it
                    || m.equals("heat") && !monteCarlo && List.of("--n", "--alpha", "--noise-batch", "--images-per-batch").contains(name)
                    || m.equals("heat") && monteCarlo && name.equals("--batch-size");
            if (unread && !name.equals("--norm")) {
                OptionChecks.noteIgnored(name, "--method " + m + (m.equals("heat") && !monteCarlo ? " --no-monte-carlo" : ""));
            }
        }
    }

    @Override public Path outDir() {
        return out != null ? out : Path.of("runs", "certify-" + method.toLowerCase(Locale.ROOT));
    }

    @Override public Integer call() {
        Device device = runtime.apply();
        CertificationMethods.Method method;
        try {
            method = CertificationMethods.get(this.method);
        } catch (IllegalArgumentException e) {
            throw new UserError(e.getMessage());
        }
        String m = method.name();
        checkOptionsFor(m);
        cluster.check();
        RunDirectory run = RunDirectory.create(outDir());
        ModelSource.Loaded model = source.load();
        double s = m.equals("heat") ? heatSigma(model, sigma) : sigma != null ? sigma : method.needsSigma() ? sigmaOf(model) : Double.NaN;
        if (m.equals("cohen") && sigma != null) noteOtherSigma(model, sigma);
        ModelSource.Loaded.Data data = model.split(this.data, split, seed);
        Dataset set = data.set();
        // a layer without a composition rule is a usage error before the run writes anything (it failed after "started")
        if (m.equals("lipschitz")) dev.tikhon.lipschitz.NetworkBound.check(model.model(), set.inputShape());
        model.model().to(device);
        RandomizedSmoothing rs = Double.isNaN(s) ? null
                : new RandomizedSmoothing(new RandomizedSmoothing.Config(s, n0, n, alpha, noiseBatch, seed, imagesPerBatch));
        CertificationRun.Plan plan = method.factory().plan(model.model(), new CertificationMethods.Settings(s,
                rs != null ? rs.config() : null, monteCarlo, predictImages, norm.toLowerCase(Locale.ROOT), batchSize, search.settings(), accountRounding));
        int count = Math.min(images, set.size());
        OptionChecks.noteCapped(spec, "--images", images, split, set, "certifying");
        System.out.println("method: " + plan.description() + " on the first " + count + " images");
        CertificationRun.Result r;
        Map<String, Object> metrics = RunReport.header("certify", device);
        long wall0 = System.nanoTime();
        String first = plan.columns().get(0);
        String runNorm = m.equals("lipschitz") ? norm.toLowerCase(Locale.ROOT) : "l2";
        boolean tsv = CertificationLog.cohenFormatFor(plan.kindOf(first), runNorm);
        if (!tsv) {
            System.out.println("note:   no " + CertificationLog.COHEN + ": Cohen et al.'s format has no place for a kind or a norm, and its "
                    + "readers take it for an ℓ2 CERTIFY radius; the first certificate here is "
                    + (plan.kindOf(first) == dev.tikhon.certify.Certificate.Kind.HEURISTIC ? "heuristic" : "an ℓ∞ radius")
                    + " (certify.csv has every radius with its kind)");
        }
        try (Cluster c = cluster.connect(); CertificationLog log = CertificationLog.open(run.path(), tsv ? first : null, resumeOptions.resume)) {
            if (!log.done().isEmpty()) System.out.println("resume: " + log.done().size() + " image(s) already certified in " + run.path());
            RunFolder.kept(() -> log.count() + " of " + count + " images (" + CertificationLog.ROWS + (tsv ? ", " + CertificationLog.COHEN : "") + ")");
            Runner runner = ClusterOptions.runner(c, source.ref(), model.model(), set, device, runtime.threads);
            try (Progress bar = Progress.start("certify " + m, count)) {
                r = CertificationRun.run(runner, model.model(), set, count, plan, device, bar, log.done(), log::append);
            }
            double wall = (System.nanoTime() - wall0) / 1e9;
            metrics.put("wall_seconds", wall);
            metrics.put("images_per_second", (count - log.done().size()) / wall);
            if (!log.done().isEmpty()) metrics.put("resumed_with_images", log.done().size());
            if (attackSteps > 0) metrics.put("attack", CertifyOutputs.attack(runner, r, m, rs, attackSteps, attackRestarts, seed));
            if (c != null) metrics.put("spark", c.describe());
        }
        // the Monte Carlo settings and their radius cap describe a probabilistic certificate: a run without one (heat
        // --no-monte-carlo) drew no samples, and an α or a cap beside its heuristic radii would describe nothing it did
        boolean sampled = plan.columns().stream().anyMatch(col -> plan.kindOf(col) == dev.tikhon.certify.Certificate.Kind.PROBABILISTIC);
        RandomizedSmoothing smoothing = sampled ? rs : null;
        CertifyOutputs.print(r, smoothing);
        metrics.put("model", model.name());
        metrics.put("data", data.description());
        metrics.put("split", split);
        metrics.put("data_set", data.identity(count));
        if (!Double.isNaN(s)) metrics.put("sigma", s);
        if (smoothing != null) {
            metrics.put("smoothing", smoothing.config());
            metrics.put("max_certifiable_radius", smoothing.maxRadius());
        }
        if (Set.of("ibp", "crown", "alpha-crown", "bab").contains(m)) {
            metrics.put("rounding", VerifyCommand.roundingNote(accountRounding, model.model().dtype()));
            if (m.equals("bab")) metrics.putAll(search.metrics());
        }
        metrics.put("result", r.summary());
        CertifyOutputs.write(run, r, s, smoothing);
        run.writeMetrics(metrics);
        run.writeIndex("Tikhon certification: " + m, model.name() + " on " + data.description() + (rs != null ? ", σ " + s : ""), metrics);
        System.out.println("outputs: " + run.path() + " (certify.csv, " + CertificationLog.ROWS + ", " + (tsv ? CertificationLog.COHEN + ", " : "")
                + "certified_accuracy.csv/.png, metrics.json, index.html)");
        return 0;
    }

    static dev.tikhon.attack.Norm parseNorm(String norm) {
        return switch (norm.toLowerCase(Locale.ROOT)) {
            case "l2" -> dev.tikhon.attack.Norm.L2;
            case "linf" -> dev.tikhon.attack.Norm.LINF;
            default -> throw new UserError("unknown --norm '" + norm + "' for --method lipschitz: use l2 or linf");
        };
    }

    /**
     * A note when cohen's --sigma differs from the σ the checkpoint was noise-trained or smoothed with: the certificate is
     * still CERTIFY's for the smoothed classifier at --sigma (randomized smoothing holds for any base model), but the run
     * does not measure the model at the σ it was made for.
     */
    static void noteOtherSigma(ModelSource.Loaded model, double sigma) {
        if (model.meta() == null) return;
        ObjectiveSpec o = model.meta().config().objective();
        double trained = o.number("sigma");
        if (!(o.reg().equals("noise") || o.reg().startsWith("heat")) || Double.isNaN(trained)) return;
        if (Math.abs(sigma - trained) > 1e-12 * Math.max(1, trained)) {
            System.out.println("note:   --sigma " + sigma + " differs from the σ " + trained + " that " + model.name() + " was "
                    + (o.reg().equals("noise") ? "noise-trained" : "heat-smoothed") + " with; the certificates are CERTIFY's for the "
                    + "smoothed classifier at σ " + sigma + " (valid for any base model), not at the σ the model was made for");
        }
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
}
