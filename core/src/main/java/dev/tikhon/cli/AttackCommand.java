package dev.tikhon.cli;

import dev.tikhon.UserError;
import dev.tikhon.attack.Norm;
import dev.tikhon.data.Dataset;
import dev.tikhon.engine.Device;
import dev.tikhon.report.RunDirectory;
import dev.tikhon.robustness.AttackLog;
import dev.tikhon.robustness.RobustBenchSummary;
import dev.tikhon.robustness.RobustnessEvaluation;
import dev.tikhon.robustness.RobustnessReport;
import dev.tikhon.scaleout.Cluster;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;

/** {@code tikhon attack}: robust accuracy at a list of radii, minimum adversarial distances and bounds, per image. */
@Command(name = "attack", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Attack a trained model: robust accuracy at each --eps, the smallest adversarial perturbation found per image, "
                + "and estimated lower bounds (L-bound, and C-bound with --lanczos), in per_image.csv, metrics.json, robustbench.json "
                + "(RobustBench's summary), PNGs and index.html. Each batch is recorded as it is done (attack.jsonl), so a stopped run "
                + "continues with --resume (docs/runs.md).",
                "The default attack is AutoAttack's standard ensemble: APGD-CE, APGD-T (targeted DLR), FAB-T, then Square (linf or l2), "
                        + "each on the points still robust, with AutoAttack's budgets (--steps 100, --targets 9, --queries 5000)."})
final class AttackCommand implements Callable<Integer>, RunFolder.Owner {
    @ArgGroup(exclusive = false, multiplicity = "1")
    ModelSource source;

    @Mixin DataOptions data = new DataOptions();

    @Option(names = "--attack", defaultValue = "ensemble",
            description = "ensemble, pgd, fgsm (linf), apgd-ce, apgd-dlr, apgd-t, fab-t, fab, square, ddn, cw (l2), cw-t (l2) or none (only the "
                    + "minimum-distance search and --transfer-from attack); or members run in turn, separated by commas (e.g. apgd-ce,apgd-t,square). Default: ${DEFAULT-VALUE}.")
    String attack;

    @Option(names = "--member-contributions", description = "Run every ensemble member on every point still correct, not only on the "
            + "points the earlier members missed, to report the points each member breaks and the points only it breaks (costs more).")
    boolean contributions;

    @Option(names = "--time-budget", paramLabel = "SECONDS", defaultValue = "0",
            description = "Seconds per image (pooled over a batch) for the minimum-distance search and the attacks; images not broken "
                    + "when it runs out get verdict timeout in per_image.csv (0: no budget). Default: ${DEFAULT-VALUE}.")
    double timeBudget;

    @Option(names = "--eot", paramLabel = "K", defaultValue = "1",
            description = "APGD averages K forward-backward passes per step (expectation over transformation), for models with "
                    + "randomness in the forward pass. Default: ${DEFAULT-VALUE}.")
    int eot;

    @Option(names = "--smoothed", paramLabel = "M", defaultValue = "0",
            description = "Attack Cohen's smoothed classifier of the model instead of the model: log of the mean softmax over M Gaussian "
                    + "noise draws (fresh every forward pass; SmoothAdv's loss), at --sigma; combine with --eot. Robust accuracy is then "
                    + "a Monte Carlo estimate; no minimum distances or bounds. 0: the model itself. Default: ${DEFAULT-VALUE}.")
    int smoothed;

    @Option(names = "--sigma", paramLabel = "S",
            description = "Noise σ of --smoothed. Default: the σ the checkpoint was noise-trained or heat-smoothed with.")
    Double sigma;

    @Option(names = "--eps", paramLabel = "R[,R…]", split = ",",
            description = "Radii to attack at, e.g. 2/255,8/255 (default for linf) or 0.5,1,1.5 (default for l2).")
    List<String> eps;

    @Option(names = "--min-distance", negatable = true, defaultValue = "true", fallbackValue = "true",
            description = "Search each image's smallest adversarial perturbation in the threat norm (best of DDN and FAB-T, and "
                    + "Carlini–Wagner with --cw-steps, refined by bisection). Default: on.")
    boolean minDistance;

    @Option(names = "--cw-steps", paramLabel = "N", defaultValue = "0",
            description = "Add Carlini–Wagner ℓ2 (9 search steps of its constant, N Adam steps each; the authors used up to 10000) to the "
                    + "minimum-distance search, and report its own distances (l2_distance_cw, median_l2_cw). --norm l2 only. "
                    + "0: not run. Default: ${DEFAULT-VALUE}.")
    int cwSteps;

    @Option(names = "--bounds", negatable = true, defaultValue = "true", fallbackValue = "true",
            description = "Compute L-bounds (one backward per image). Default: on.")
    boolean bounds;

    @Option(names = "--lanczos", paramLabel = "K", defaultValue = "0",
            description = "Lanczos steps for the C-bound's Hessian eigenvalue (0: no C-bound; meaningful for smooth models). Default: ${DEFAULT-VALUE}.")
    int lanczos;

    @Option(names = "--schedule", defaultValue = "constant", paramLabel = "constant|cosine|step",
            description = "PGD's step-size schedule (step 2.5ε/steps, then decayed). Default: ${DEFAULT-VALUE}.")
    String schedule;

    @Mixin TransferOptions transfer = new TransferOptions();

    @Mixin RobustnessOptions options = new RobustnessOptions();

    @Mixin RuntimeOptions runtime = new RuntimeOptions();

    @Mixin ClusterOptions cluster = new ClusterOptions();

    @Mixin ResumeOptions resumeOptions = new ResumeOptions();

    @Override public Path outDir() {
        return options.out != null ? options.out : Path.of("runs", "attack");
    }

    @Override public Integer call() {
        String emptyMember = OptionChecks.emptyItem("--attack", attack, "[,+]");   // "pgd,,fgsm" ran, labelled so
        if (emptyMember != null) throw new UserError(emptyMember);
        double[] radii = eps == null || eps.isEmpty()
                ? (options.norm == Norm.LINF ? new double[]{2.0 / 255, 8.0 / 255} : new double[]{0.5, 1.0, 1.5})
                : RobustnessOptions.parseEps(eps);
        if (smoothed > 0 && cluster.enabled()) throw new UserError("--smoothed runs on this machine only: drop --spark, or --smoothed");
        if (sigma != null && smoothed == 0) throw new UserError("--sigma is the noise of --smoothed M: add --smoothed, or drop --sigma");
        if (smoothed > 0 && cwSteps > 0) throw new UserError("--smoothed runs no minimum-distance search, which --cw-steps adds to: drop one of them");
        if (lanczos > 0 && (smoothed > 0 || !bounds)) {   // the C-bound was silently not computed
            throw new UserError("--lanczos adds the C-bound to the L-bounds, which " + (smoothed > 0 ? "--smoothed does not compute"
                    : "--no-bounds turns off") + ": drop one of them");
        }
        RobustnessEvaluation.Config config = new RobustnessEvaluation.Config(options.norm, radii, attack, options.steps, options.restarts,
                options.targets, options.queries, options.ddnSteps, minDistance && smoothed == 0, bounds && smoothed == 0, lanczos,
                options.batchSize, options.seed, dev.tikhon.attack.Pgd.StepSchedule.parse(schedule), contributions, timeBudget, eot, cwSteps);
        transfer.check(cluster.enabled(), options.norm);
        List<String> members = config.attack().equals(RobustnessEvaluation.NONE) ? List.of() : List.of(config.attack().split(","));
        String crafting = transfer.enabled() ? transfer.attack.toLowerCase(java.util.Locale.ROOT) : null;
        if (options.ddnSteps < 1 && (members.contains("ddn") || "ddn".equals(crafting))) {
            throw new UserError("--attack ddn runs DDN for --ddn-steps steps: give --ddn-steps ≥ 1, got " + options.ddnSteps);
        }
        noteUnread(members, crafting, config.minDistance());
        if (config.attack().equals(RobustnessEvaluation.NONE) && !config.minDistance() && !transfer.enabled()) {
            // nothing would try to break a point: "robust accuracy" would only repeat clean accuracy
            throw new UserError("--attack none runs no attack, and " + (smoothed > 0 ? "--smoothed runs no minimum-distance search"
                    : "--no-min-distance turns off the minimum-distance search") + ", so nothing would attack: name an attack (e.g. --attack "
                    + "ensemble), add --transfer-from MODEL" + (smoothed > 0 ? "" : ", or drop --no-min-distance"));
        }
        return evaluate("attack", "Tikhon robustness evaluation", smoothed > 0 ? source.smoothed(sigma, smoothed) : source, data, options,
                runtime, cluster, config, Path.of("runs", "attack"), null, transfer);
    }

    /** The CLI option of each budget setting ({@link RobustnessEvaluation#SETTINGS_READ}'s names). */
    static final Map<String, String> OPTION = Map.of("steps", "--steps", "restarts", "--restarts", "targets", "--targets",
            "square_queries", "--queries", "ddn_steps", "--ddn-steps", "schedule", "--schedule", "eot", "--eot");
    /** The options the minimum-distance search (DDN, FAB-T) reads. */
    static final java.util.Set<String> SEARCH_READS = options(RobustnessEvaluation.SEARCH_READS);

    static java.util.Set<String> options(java.util.Set<String> settings) {
        return settings.stream().map(OPTION::get).collect(java.util.stream.Collectors.toSet());
    }

    /** What a transfer attack reads where it differs: PGD crafts with its adversarial-training form (Madry's step, one run). */
    static final Map<String, java.util.Set<String>> TRANSFER_READS = Map.of("pgd", java.util.Set.of("--steps"));

    @picocli.CommandLine.Spec picocli.CommandLine.Model.CommandSpec spec;

    private void noteUnread(List<String> members, String crafting, boolean search) {
        // an attack not in the table: assume it reads all
        java.util.Set<String> read = new java.util.HashSet<>(options(RobustnessEvaluation.settingsRead(members, search)));
        if (crafting != null) {
            read.addAll(TRANSFER_READS.getOrDefault(crafting, options(RobustnessEvaluation.settingsRead(List.of(crafting), false))));
        }
        for (String o : List.of("--steps", "--restarts", "--targets", "--queries", "--ddn-steps", "--schedule", "--eot")) {
            if (!OptionChecks.given(spec, o) || read.contains(o)) continue;
            String with = "--attack " + String.join(",", members.isEmpty() ? List.of(RobustnessEvaluation.NONE) : members)
                    + (crafting != null ? " and --transfer-attack " + crafting : "")
                    + (SEARCH_READS.contains(o) && !search ? (smoothed > 0 ? " and --smoothed" : " and --no-min-distance") : "");
            OptionChecks.noteIgnored(o, with);
        }
    }

    /** Loads model and data, runs the evaluation, writes the report and prints the summary (shared with {@code bounds}). */
    static int evaluate(String command, String title, ModelSource source, DataOptions data, RobustnessOptions options,
                        RuntimeOptions runtime, ClusterOptions cluster, RobustnessEvaluation.Config config, Path defaultOut) {
        return evaluate(command, title, source, data, options, runtime, cluster, config, defaultOut, null, new TransferOptions());
    }

    /** A report section a command adds beside the evaluation (bounds: the sound Lipschitz bound); prints its own lines. */
    interface Extra {
        void add(ModelSource.Loaded model, Dataset set, Device device, Map<String, Object> header);
    }

    static int evaluate(String command, String title, ModelSource source, DataOptions data, RobustnessOptions options,
                        RuntimeOptions runtime, ClusterOptions cluster, RobustnessEvaluation.Config config, Path defaultOut, Extra extra,
                        TransferOptions transfer) {
        cluster.check();
        Device device = runtime.apply();
        RunDirectory run = RunDirectory.create(options.out != null ? options.out : defaultOut);
        ModelSource.Loaded loaded = source.load(device);
        ModelSource.Loaded.Data selected = loaded.split(data, options.split, options.seed);
        Dataset set = options.limit > 0 && options.limit < selected.set().size() ? selected.set().head(options.limit) : selected.set();
        if (set.size() < selected.set().size()) System.out.println("evaluating the first " + set.size() + " images (--limit)");
        OptionChecks.noteCapped(options.mixee, "--limit", options.limit, options.split, selected.set(),
                command.equals("attack") ? "attacking" : "evaluating");
        if (set.isImages()) RobustnessOptions.noteWholeBox(config.eps(), config.norm());   // a toy set's points are not in [0, 1]
        RobustnessEvaluation.Transfers transfers = transfer.load(device, set, selected.description());
        RobustnessEvaluation.Result r;
        Map<String, Object> header = RunReport.header(command, device);
        try (Cluster c = cluster.connect(); AttackLog log = AttackLog.open(run.path(), RunFolder.resuming())) {
            if (log.resumedImages() > 0) System.out.println("resume: " + log.resumedImages() + " image(s) already attacked in " + run.path());
            RunFolder.kept(() -> log.images() + " of " + set.size() + " images (" + AttackLog.FILE + ")");
            r = RobustnessEvaluation.run(ClusterOptions.runner(c, source.ref(), loaded.model(), set, device, runtime.threads), set, config, log,
                    transfers);
            if (log.resumedImages() > 0) header.put("resumed_with_images", log.resumedImages());
            if (c != null) header.put("spark", c.describe());
        } catch (RuntimeException e) {
            throw loaded.explain(e, set);
        }
        header.put("model", loaded.description());
        if (transfers.any()) header.put("transfer", transfer.describe());
        header.put("data", selected.description() + (set.size() < selected.set().size() ? ", first " + set.size() : ""));
        header.put("data_set", selected.identity(set.size()));
        if (extra != null) extra.add(loaded, set, device, header);
        // --smoothed: the classifier attacked is a Monte Carlo one (fresh noise every forward pass), so its robust accuracy is a
        // Monte Carlo estimate of the smoothed classifier's, not a plain attack's upper bound
        boolean smoothed = loaded.model() instanceof dev.tikhon.attack.SmoothedClassifier;
        if (r.config().eps().length > 0) header.put("robust_accuracy_kind", smoothed ? RobustnessReport.MONTE_CARLO : RobustnessReport.EMPIRICAL);
        Map<String, Object> summary = new java.util.LinkedHashMap<>(header);
        summary.putAll(RobustnessReport.metrics(r));
        print(r, summary);   // before the files: a full disk still shows the result
        // bounds attacks at no ε: a RobustBench entry would be empty (it was, and said "tikhon attack"). Before the page, which
        // lists the files present
        if (command.equals("attack")) {
            RobustBenchSummary.write(run.path(), r, loaded.description(), selected.description(),
                    smoothed ? RobustnessReport.MONTE_CARLO : RobustnessReport.EMPIRICAL);
        }
        RobustnessReport.write(run, r, header, title);
        System.out.println("outputs: " + run.path().toAbsolutePath());
        return 0;
    }

    static void print(RobustnessEvaluation.Result r, Map<String, Object> m) {
        RobustnessEvaluation.Config c = r.config();
        System.out.printf("clean accuracy %.4f on %d images%n", r.cleanAccuracy(), r.n());
        // a point the minimum-distance search broke within ε is not robust there, whatever the attack: name the search too
        String attacks = RobustnessReport.robustAccuracyLabel(r);
        boolean monteCarlo = RobustnessReport.MONTE_CARLO.equals(m.get("robust_accuracy_kind"));
        for (int e = 0; e < c.eps().length; e++) {
            System.out.printf("robust accuracy %.4f at %s ε = %.5g (%s)%s%n", r.robustAccuracy(e), c.norm(), c.eps()[e], attacks,
                    monteCarlo ? " [Monte Carlo estimate: the smoothed classifier]" : "");
        }
        Object dist = m.get("min_adversarial_distance");
        if (dist instanceof Map<?, ?> d) {   // the median is null in metrics.json (JSON has no ∞, no NaN): say why
            Object median = d.get("median");
            String shown = median != null ? dev.tikhon.report.Format.value(median)
                    : r.cleanAccuracy() == 0 ? "none (no image is classified correctly)" : "not reached (most correct images were not broken)";
            System.out.println("smallest adversarial distance (" + c.norm() + "): median " + shown + ", not found for " + d.get("not_found")
                    + " correct image(s)");
        }
        if (c.bounds()) {
            System.out.printf("L-bound (estimate, L = %.4g): median %s%n", r.lipschitz(),
                    dev.tikhon.report.Format.value(((Map<?, ?>) m.get("bounds")).get("l_bound_median")));
            if (!Double.isNaN(r.curvature())) {
                System.out.printf("C-bound (estimate, C = %.4g): median %s%n", r.curvature(),
                        dev.tikhon.report.Format.value(((Map<?, ?>) m.get("bounds")).get("c_bound_median")));
            }
        }
        System.out.printf("%.2f ms per image%n", 1000 * r.seconds() / Math.max(1, r.n()));
        for (String w : r.warnings()) System.out.println("WARNING: " + w);
    }
}
