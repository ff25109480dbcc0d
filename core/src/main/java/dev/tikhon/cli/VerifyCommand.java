package dev.tikhon.cli;

import dev.tikhon.UserError;
import dev.tikhon.attack.Norm;
import dev.tikhon.data.Dataset;
import dev.tikhon.engine.DType;
import dev.tikhon.engine.Device;
import dev.tikhon.report.Charts;
import dev.tikhon.report.Csv;
import dev.tikhon.report.Progress;
import dev.tikhon.report.RunDirectory;
import dev.tikhon.verify.BoundedNetwork;
import dev.tikhon.verify.Verification;
import dev.tikhon.verify.VerificationRun;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;

/** {@code tikhon verify}: sound robustness verification by bound propagation, with a verdict per image. */
@Command(name = "verify", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Prove robustness: an image is verified at ε when bound propagation (IBP, CROWN or α-CROWN) shows every margin "
                + "z_y − z_j positive over the whole ℓ∞ or ℓ2 ball ∩ [0, 1] (the whole ball for the 2-D toy sets, which are not images; a sound certificate); falsified when it is misclassified "
                + "or the attack ensemble finds a counterexample (run on what is not verified, before bab and bab-input search: they skip what it breaks), "
                + "or bab-input finds one; unknown otherwise. Writes verify.csv, "
                + "verified_accuracy.csv/.png, metrics.json, index.html."})
final class VerifyCommand implements Callable<Integer> {
    @ArgGroup(exclusive = false, multiplicity = "1")
    ModelSource source;

    @Mixin DataOptions data = new DataOptions();

    @Option(names = "--method", split = ",", defaultValue = "crown", description = "ibp, crown, alpha-crown (CROWN with its ReLU slopes optimized per margin, 20 Adam steps), bab (branch and "
            + "bound on activation splits (ReLU; tanh, SiLU, … cut at a point) over CROWN with β-CROWN's split multipliers and optimized slopes, up to --bab-domains per image), "
            + "bab-input (branch and bound on the input box over CROWN, ℓ∞ only, for inputs of few dimensions such as the 2-D toy sets), "
            + "or several (ibp,crown). Default: ${DEFAULT-VALUE}.")
    List<String> methods;

    @Option(names = "--norm", paramLabel = "linf|l2", defaultValue = "linf", converter = RobustnessOptions.NormConverter.class,
            description = "Threat model. Default: ${DEFAULT-VALUE}.")
    Norm norm;

    @Option(names = "--eps", split = ",", defaultValue = "0.1", description = "Radii, e.g. 0.05,0.1 or 8/255. Default: ${DEFAULT-VALUE}.")
    List<String> eps;

    @Option(names = "--images", defaultValue = "100", paramLabel = "M", description = "Verify the first M images of the split. Default: ${DEFAULT-VALUE}.")
    int images;

    @Option(names = "--split", defaultValue = "test", description = "test or train. Default: ${DEFAULT-VALUE}.")
    String split;

    @Option(names = "--radius", paramLabel = "MAX", description = "Also find each image's largest verified radius in [0, MAX] by bisection.")
    Double radius;

    @Option(names = "--radius-steps", defaultValue = "12", description = "Bisection steps of --radius. Default: ${DEFAULT-VALUE}.")
    int radiusSteps;

    @Option(names = "--attack", negatable = true, defaultValue = "true", fallbackValue = "true",
            description = "Attack what is not verified with the standard ensemble in the threat norm (APGD-CE, APGD-T, FAB-T and Square, AutoAttack's members). Default: on.")
    boolean attack;

    @Option(names = "--attack-all", description = "Attack verified images too, and count violations (verified yet broken): a soundness check.")
    boolean attackAll;

    @Option(names = "--steps", defaultValue = "100", description = "APGD iterations. Default: ${DEFAULT-VALUE}.")
    int steps;

    @Option(names = "--targets", defaultValue = "9", description = "APGD-T target classes. Default: ${DEFAULT-VALUE}.")
    int targets;

    @Option(names = "--queries", defaultValue = "1000", description = "Square attack queries (ℓ∞). Default: ${DEFAULT-VALUE}.")
    int queries;

    @Option(names = "--batch-size", defaultValue = "25", description = "Images per bound computation. Default: ${DEFAULT-VALUE}.")
    int batchSize;

    @Mixin SearchOptions search = new SearchOptions();

    @Option(names = "--account-rounding", description = {"Bounds that hold for the network's exact function, rounding included: the model is "
            + "verified in float64 and every bound computation's rounding error (Higham's γₙ per dot product) is added to its bounds.",
            "Without it (as auto_LiRPA) the bounds hold up to the rounding of their float32 computation."})
    boolean accountRounding;

    @Option(names = "--seed", defaultValue = "0", description = "Seed of the attacks. Default: ${DEFAULT-VALUE}.")
    long seed;

    @Mixin OutputOptions output = new OutputOptions("runs", "verify");

    @picocli.CommandLine.Spec picocli.CommandLine.Model.CommandSpec spec;

    /** metrics.json's "rounding" of a sound bound: accounted for (float64), or round to nearest in {@code dtype}. */
    static String roundingNote(boolean accounted, DType dtype) {
        return accounted ? "accounted: float64 with every bound computation's rounding error added (sound for the exact network)"
                : "not accounted: " + dtype.toString().toLowerCase(Locale.ROOT) + ", round to nearest (sound up to the rounding of the bound computation)";
    }

    /** --method's names as methods, each at most once (bab,bab ran twice: duplicate columns in verify.csv and rows in metrics.json). */
    static List<Verification.Method> parseMethods(List<String> names) {
        List<Verification.Method> ms = new ArrayList<>();
        for (String m : names) {
            Verification.Method parsed;
            try {
                parsed = Verification.Method.parse(m);
            } catch (IllegalArgumentException e) {
                throw new UserError(e.getMessage());
            }
            if (ms.contains(parsed)) throw new UserError("--method gives " + parsed + " twice: give each method once");
            ms.add(parsed);
        }
        return ms;
    }

    @Override public Integer call() {
        Device device = output.apply();
        List<Verification.Method> ms = parseMethods(methods);
        if (attackAll && !attack) {   // the soundness check is an attack: without one it would be skipped silently
            throw new UserError("--attack-all attacks verified images too, which --no-attack turns off: drop one of them");
        }
        // read only with --radius, and by bab: given otherwise, they were ignored without a word
        if (radius == null && OptionChecks.given(spec, "--radius-steps")) OptionChecks.noteIgnored("--radius-steps", "no --radius");
        if (ms.contains(Verification.Method.BAB_INPUT)) {
            try {
                Verification.requireBox(norm);
            } catch (IllegalArgumentException e) {
                throw new UserError(e.getMessage());
            }
        }
        SearchOptions.noteUnread(spec, ms.stream().anyMatch(Verification.Method::searches), ms.contains(Verification.Method.BAB),
                "--method " + String.join(",", methods));
        if (!attack) {   // the attack's budget, given for a run that attacks nothing
            for (String o : List.of("--steps", "--targets", "--queries")) {
                if (OptionChecks.given(spec, o)) OptionChecks.noteIgnored(o, "--no-attack");
            }
        }
        double[] radii = RobustnessOptions.parseEps(eps);   // positive and finite, or an error naming --eps (as in attack)
        if (radius != null && !(radius > 0)) throw new UserError("--radius must be positive, got " + radius);
        RunDirectory run = output.create();
        ModelSource.Loaded model = source.load(device);
        if (accountRounding) model.model().to(DType.FLOAT64);   // float32 weights convert exactly; the bounds' rounding is then 2⁻⁵³
        BoundedNetwork.of(model.model());   // a layer the verifier cannot bound is a usage error, before any work
        ModelSource.Loaded.Data d = model.split(data, split, seed);
        Dataset set = d.set().head(Math.min(images, d.set().size()));
        OptionChecks.noteCapped(spec, "--images", images, split, d.set(), "verifying");
        if (set.isImages()) RobustnessOptions.noteWholeBox(radii, norm);   // a toy set's points are not in [0, 1]: no such box
        VerificationRun.Settings s = new VerificationRun.Settings(ms, norm, radii, batchSize, attack, attackAll, steps, 1, targets, queries,
                seed, radius == null ? 0 : radius, radius == null ? 0 : radiusSteps, search.settings());
        long t0 = System.nanoTime();
        VerificationRun.Result r;
        try (Progress bar = Progress.start("verify " + String.join(",", methods), set.size())) {
            r = accountRounding
                ? dev.tikhon.verify.Rounding.accounted(() -> VerificationRun.run(model.model(), set, s, device, bar::step, bar::setExtra))
                : VerificationRun.run(model.model(), set, s, device, bar::step, bar::setExtra);
        }
        double wall = (System.nanoTime() - t0) / 1e9;
        Map<String, Object> metrics = RunReport.header("verify", device);
        metrics.put("model", model.name());
        metrics.put("data", d.description());
        metrics.put("images", set.size());
        metrics.put("norm", norm.toString());
        metrics.put("certificate_kind", "sound");
        metrics.put("rounding", roundingNote(accountRounding, model.model().dtype()));
        if (ms.stream().anyMatch(Verification.Method::searches)) metrics.putAll(search.metrics());
        metrics.put("clean_accuracy", r.cleanAccuracy());
        metrics.put("wall_seconds", wall);
        metrics.put("attack_seconds", r.attackSeconds());
        metrics.put("results", summary(r));
        if (s.radiusSteps() > 0) metrics.put("verified_radius", radiusSummary(r));
        write(run, r);
        run.writeMetrics(metrics);
        run.writeIndex("Tikhon verification", model.name() + " on " + d.description() + ", " + norm, metrics);
        print(r);
        System.out.println(accountRounding ? "verified: sound for the exact network (float64, rounding accounted for)"
                : "verified: sound up to the rounding of the bounds' own " + model.model().dtype().toString().toLowerCase(Locale.ROOT)
                        + " computation (--account-rounding: for the exact network)");
        System.out.println("outputs: " + run.path() + " (verify.csv, verified_accuracy.csv/.png, metrics.json, index.html)");
        return 0;
    }

    static List<Map<String, Object>> summary(VerificationRun.Result r) {
        List<Map<String, Object>> out = new ArrayList<>();
        VerificationRun.Settings s = r.settings();
        for (int m = 0; m < s.methods().size(); m++) {
            for (int e = 0; e < s.eps().length; e++) {
                Map<String, Object> row = new LinkedHashMap<>();
                row.put("method", s.methods().get(m).toString());
                row.put("eps", s.eps()[e]);
                row.put("verified_accuracy", r.verifiedAccuracy(m, e));
                final int mm = m, ee = e;
                for (String v : List.of("verified", "falsified", "unknown")) {
                    row.put(v, r.rows().stream().filter(x -> x.verdict(mm, ee).equals(v)).count());
                }
                if (s.attack() && s.attackAll()) row.put("violations_verified_but_broken", r.violations(e));
                row.put("bound_seconds_per_image", r.boundSecondsPerImage()[m]);
                if (s.methods().get(m).searches()) row.put("search", searchSummary(r, m, e));
                out.add(row);
            }
            if (s.radiusSteps() > 0) {   // kept where earlier versions wrote it (the method's last ε); verified_radius has it by method
                out.get(out.size() - 1).put("median_verified_radius", medianRadius(r, m));
            }
        }
        return out;
    }

    /** How a search method's searches at radius {@code e} ended: images per end ({@link VerificationRun.Row#searchEnd}), mean domains of those searched. */
    static Map<String, Object> searchSummary(VerificationRun.Result r, int m, int e) {
        Map<String, Object> out = new LinkedHashMap<>();
        for (String end : VerificationRun.searchEnds()) {
            out.put(end.replace(' ', '_'), r.rows().stream().filter(x -> end.equals(x.searchEnd(m, e))).count());
        }
        out.put("mean_domains_searched", r.rows().stream().filter(x -> x.domains()[m][e] > 0).mapToInt(x -> x.domains()[m][e]).average().orElse(0));
        return out;
    }

    /** The median of method {@code m}'s largest verified radii over every image (the two middle values averaged). */
    static double medianRadius(VerificationRun.Result r, int m) {
        return dev.tikhon.robustness.RobustnessReport.median(r.rows().stream().mapToDouble(x -> x.radius()[m]).sorted().toArray());
    }

    /** Images whose bisection verified the whole range: their radius is written as MAX, and the largest verified radius is ≥ MAX. */
    static long capped(VerificationRun.Result r, int m) {
        double max = r.settings().radiusMax();
        return r.rows().stream().filter(x -> x.radius()[m] >= max).count();
    }

    /**
     * metrics.json {@code verified_radius}: per method, the median of the largest verified radii over every image (0 where
     * not even the clean image is verified, a misclassified one included) and how many reached MAX (capped: ≥ MAX).
     */
    static Map<String, Object> radiusSummary(VerificationRun.Result r) {
        VerificationRun.Settings s = r.settings();
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("kind", "sound");
        out.put("max", s.radiusMax());
        out.put("bisection_steps", s.radiusSteps());
        out.put("over", "every image; 0 where not even the clean image is verified (misclassified included); a radius equal to max "
                + "is capped: the image is verified on the whole range, its largest verified radius is at least max");
        Map<String, Object> by = new LinkedHashMap<>();
        for (int m = 0; m < s.methods().size(); m++) {
            Map<String, Object> one = new LinkedHashMap<>();
            double median = medianRadius(r, m);
            one.put("median", median);
            one.put("median_capped", median >= s.radiusMax());
            one.put("capped", capped(r, m));
            by.put(s.methods().get(m).toString(), one);
        }
        out.put("by_method", by);
        return out;
    }

    static void write(RunDirectory run, VerificationRun.Result r) {
        VerificationRun.Settings s = r.settings();
        List<String> header = new ArrayList<>(List.of("image", "label", "prediction", "correct"));
        for (double e : s.eps()) {
            for (Verification.Method m : s.methods()) {
                header.add(m + "_margin_lower@" + e);
                header.add(m + "_verdict@" + e);
            }
            header.add("broken_by@" + e);
        }
        if (s.radiusSteps() > 0) for (Verification.Method m : s.methods()) header.add(m + "_verified_radius");
        // appended, so the columns before keep their places
        if (s.radiusSteps() > 0) for (Verification.Method m : s.methods()) header.add(m + "_radius_capped");
        boolean tightest = s.methods().size() > 1;
        if (tightest) for (double e : s.eps()) header.add("tightest_margin_lower@" + e);
        for (double e : s.eps()) {   // appended after the rest, so the columns before keep their places
            for (Verification.Method m : s.methods()) {
                if (!m.searches()) continue;
                header.add(m + "_search@" + e);
                header.add(m + "_domains@" + e);
            }
        }
        List<List<Object>> rows = new ArrayList<>();
        for (VerificationRun.Row x : r.rows()) {
            List<Object> row = new ArrayList<>(List.of(x.index(), x.label(), x.prediction(), x.correct()));
            for (int e = 0; e < s.eps().length; e++) {
                for (int m = 0; m < s.methods().size(); m++) {
                    row.add(x.margin()[m][e]);
                    row.add(x.verdict(m, e));
                }
                row.add(x.brokenBy()[e] == null ? "" : x.brokenBy()[e]);
            }
            if (s.radiusSteps() > 0) for (int m = 0; m < s.methods().size(); m++) row.add(x.radius()[m]);
            if (s.radiusSteps() > 0) for (int m = 0; m < s.methods().size(); m++) row.add(x.radius()[m] >= s.radiusMax());
            if (tightest) {   // each method's bound is a sound lower bound of the same worst margin: so is their maximum
                for (int e = 0; e < s.eps().length; e++) {
                    double best = Double.NEGATIVE_INFINITY;
                    for (int m = 0; m < s.methods().size(); m++) best = Math.max(best, x.margin()[m][e]);
                    row.add(best);
                }
            }
            for (int e = 0; e < s.eps().length; e++) {
                for (int m = 0; m < s.methods().size(); m++) {
                    if (!s.methods().get(m).searches()) continue;
                    row.add(x.searchEnd(m, e));
                    row.add(x.domains()[m][e]);
                }
            }
            rows.add(row);
        }
        Csv.write(run.resolve("verify.csv"), header, rows);
        List<List<Object>> acc = new ArrayList<>();
        List<Charts.Series> series = new ArrayList<>();
        for (int m = 0; m < s.methods().size(); m++) {
            double[] ys = new double[s.eps().length];
            for (int e = 0; e < s.eps().length; e++) {
                ys[e] = r.verifiedAccuracy(m, e);
                acc.add(List.of(s.methods().get(m).toString(), s.eps()[e], ys[e], r.robustAccuracy(e)));
            }
            series.add(new Charts.Series(s.methods().get(m).toString(), s.eps(), ys));
        }
        Csv.write(run.resolve("verified_accuracy.csv"), List.of("method", "eps", "verified_accuracy", "not_falsified"), acc);
        Charts.line(run.resolve("verified_accuracy.png"), "Verified accuracy (" + s.norm() + ")", "ε", "verified accuracy", series);
        if (s.radiusSteps() > 0) {
            // every method: the fraction of correctly classified images whose largest verified radius is ≥ r (sound: a ball verified at radius ρ
            // proves every smaller one); the curves end at MAX, where the search stopped (radii there are ≥ MAX)
            int points = 101;
            List<Charts.Series> curves = new ArrayList<>();
            for (int m = 0; m < s.methods().size(); m++) {
                double[] x = new double[points], y = new double[points];
                final int mm = m;
                for (int p = 0; p < points; p++) {
                    double at = s.radiusMax() * p / (points - 1);
                    x[p] = at;
                    // correct: a misclassified image has radius 0 too, but is verified nowhere
                    y[p] = r.rows().stream().filter(row -> row.correct() && row.radius()[mm] >= at).count() / (double) r.rows().size();
                }
                long c = capped(r, m);
                curves.add(new Charts.Series(s.methods().get(m) + ", sound" + (c > 0 ? " (" + c + " capped at ≥ " + dev.tikhon.report.Format.number(s.radiusMax()) + ")" : ""),
                        x, y, Charts.Stroke.SOLID));
            }
            Charts.line(run.resolve("verified_radius.png"), "Largest verified radius (" + s.norm() + ", bisection in [0, "
                    + dev.tikhon.report.Format.number(s.radiusMax()) + "]; at MAX: ≥ MAX)", "radius r", "fraction with verified radius ≥ r", curves);
        }
    }

    static void print(VerificationRun.Result r) {
        VerificationRun.Settings s = r.settings();
        System.out.printf(Locale.ROOT, "clean accuracy %.4f on %d images%n", r.cleanAccuracy(), r.rows().size());
        System.out.printf("%-6s %8s %9s %9s %9s %8s %12s%n", "method", "eps", "verified", "falsified", "unknown", "ver acc", "s / image");
        List<Map<String, Object>> summary = summary(r);
        for (Map<String, Object> row : summary) {
            System.out.printf(Locale.ROOT, "%-6s %8.4g %9d %9d %9d %8.4f %12.4g%n", row.get("method"), (double) row.get("eps"),
                    (long) row.get("verified"), (long) row.get("falsified"), (long) row.get("unknown"), (double) row.get("verified_accuracy"),
                    (double) row.get("bound_seconds_per_image"));
        }
        for (Map<String, Object> row : summary) {   // where a search's budget went, and whether more would help
            if (!(row.get("search") instanceof Map<?, ?> ends)) continue;
            long searched = r.rows().size() - (long) ends.get("root") - (long) ends.get("attacked_first");
            if (searched == 0 && (long) ends.get("attacked_first") == 0) {
                System.out.printf(Locale.ROOT, "%s at ε %s: every image decided at the root, none searched%n", row.get("method"),
                        dev.tikhon.report.Format.number((double) row.get("eps")));
                continue;
            }
            System.out.printf(Locale.ROOT, "%s at ε %s: %d searched (mean %.0f domains): %d proved, %d counterexample, %d ran out of "
                            + "--bab-domains %d, %d stuck, %d stopped by --bab-timeout; %d attacked first (broken, not searched), %d decided at the root%n",
                    row.get("method"), dev.tikhon.report.Format.number((double) row.get("eps")), searched, (double) ends.get("mean_domains_searched"), (long) ends.get("proved"),
                    (long) ends.get("counterexample"), (long) ends.get("budget"), s.bab().maxDomains(), (long) ends.get("stuck"), (long) ends.get("stopped"),
                    (long) ends.get("attacked_first"), (long) ends.get("root"));
        }
        if (s.radiusSteps() > 0) {
            for (int m = 0; m < s.methods().size(); m++) {
                double median = medianRadius(r, m);
                long c = capped(r, m);
                System.out.printf(Locale.ROOT, "largest verified radius (%s, %s, sound): median %s%.4g over %d images; %d capped at --radius %.4g (≥)%n",
                        s.methods().get(m), s.norm(), median >= s.radiusMax() ? "≥ " : "", median, r.rows().size(), c, s.radiusMax());
            }
        }
    }
}
