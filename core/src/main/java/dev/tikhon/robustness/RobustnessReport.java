package dev.tikhon.robustness;

import dev.tikhon.report.Charts;
import dev.tikhon.report.Csv;
import dev.tikhon.report.HtmlReport;
import dev.tikhon.report.RunDirectory;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/** Writes a robustness evaluation as per_image.csv, metrics.json, two PNGs and index.html. */
public final class RobustnessReport {
    /** The kind of an attack's robust accuracy: what the attacks failed to break, an upper bound on the true robust accuracy. */
    public static final String EMPIRICAL = "empirical";
    /**
     * The kind of {@code attack --smoothed}'s robust accuracy: a Monte Carlo estimate of the smoothed classifier's (every
     * forward pass draws fresh noise), with no confidence level.
     */
    public static final String MONTE_CARLO = "monte-carlo estimate";

    private RobustnessReport() {}

    /** The evaluation's summary, as it goes into metrics.json. */
    public static Map<String, Object> metrics(RobustnessEvaluation.Result r) {
        RobustnessEvaluation.Config c = r.config();
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("n", r.n());
        m.put("norm", c.norm().toString());
        m.put("clean_accuracy", r.cleanAccuracy());
        Map<String, Object> robust = new LinkedHashMap<>();
        for (int e = 0; e < c.eps().length; e++) robust.put(epsKey(c.eps()[e]), r.robustAccuracy(e));
        m.put("robust_accuracy", robust);
        // Only where the minimum-distance search ran: without it (--no-min-distance, --smoothed) the distances are the ε-attacks'
        // perturbations, ≤ ε where found and nothing where not, which is no minimum distance (an unbroken image is not +∞ away)
        if (c.minDistance()) {
            double[] found = correctRows(r).stream().mapToDouble(RobustnessEvaluation.Row::minDistance).sorted().toArray();
            Map<String, Object> dist = new LinkedHashMap<>();
            dist.put("over", "correctly classified points; +∞ where no attack found an adversarial example (no number in metrics.json)");
            dist.put("median", finiteOrNull(median(found)));
            dist.put("mean_of_found", Arrays.stream(found).filter(Double::isFinite).average().orElse(Double.NaN));
            dist.put("not_found", Arrays.stream(found).filter(d -> !Double.isFinite(d)).count());
            dist.put("median_l2_ddn", finiteOrNull(medianFound(r, RobustnessEvaluation.Row::l2Distance)));
            if (c.cwSteps() > 0) dist.put("median_l2_cw", finiteOrNull(medianFound(r, RobustnessEvaluation.Row::cwDistance)));
            m.put("min_adversarial_distance", dist);
        }
        if (c.bounds()) {
            Map<String, Object> b = new LinkedHashMap<>();
            b.put("kind", "estimate: Lipschitz and curvature constants measured on the evaluated points, not proven");
            b.put("lipschitz_estimate", r.lipschitz());
            b.put("l_bound_median", median(correctRows(r).stream().mapToDouble(RobustnessEvaluation.Row::lBound).sorted().toArray()));
            b.put("l_bound_mean", correctRows(r).stream().mapToDouble(RobustnessEvaluation.Row::lBound).average().orElse(Double.NaN));
            if (!Double.isNaN(r.curvature())) {
                b.put("curvature_estimate", r.curvature());
                b.put("lanczos_steps", c.lanczosSteps());
                b.put("c_bound_median", median(correctRows(r).stream().mapToDouble(RobustnessEvaluation.Row::cBound).sorted().toArray()));
                b.put("c_bound_mean", correctRows(r).stream().mapToDouble(RobustnessEvaluation.Row::cBound).average().orElse(Double.NaN));
            }
            if (c.eps().length > 0) {   // what robust_accuracy.png plots beside robust accuracy: correct, with the bound ≥ ε
                b.put("fraction_l_bound_at_least_eps", boundFractions(r, false));
                if (!Double.isNaN(r.curvature())) b.put("fraction_c_bound_at_least_eps", boundFractions(r, true));
            }
            b.put("checked_against", checkedAgainst(c));
            b.put("l_bound_violations", r.violations(false));
            b.put("c_bound_violations", Double.isNaN(r.curvature()) ? 0 : r.violations(true));
            m.put("bounds", b);
        }
        Map<String, Object> attacks = new LinkedHashMap<>();
        attacks.put("attack", c.attack());
        attacks.put("members", r.attackNames());
        if (c.eps().length > 0) {
            attacks.put("robust_accuracy_by", RobustnessEvaluation.robustAccuracyBy(r));
            attacks.put("robust_accuracy_label", robustAccuracyLabel(r));   // as stdout and the page name it
        }
        attacks.put("points_first_broken_by_member", perMember(r, r.firstBrokenBy()));
        if (r.brokenBy() != null) {
            attacks.put("points_broken_by_member", perMember(r, r.brokenBy()));
            attacks.put("points_broken_only_by_member", perMember(r, r.brokenOnlyBy()));
        }
        attacks.put("points_whose_smallest_distance_was_found_by", r.smallestDistanceFoundBy());
        // only the budgets something in the run read (bounds, which runs no attack, had listed PGD's steps and Square's queries)
        List<String> ran = new ArrayList<>(c.attack().equals(RobustnessEvaluation.NONE) ? List.of() : RobustnessEvaluation.members(c.attack()));
        // a transfer attack's crafting attack reads its own budget: listed whole, as before
        if (r.attackNames().stream().anyMatch(dev.tikhon.attack.Transfer::isTransfer)) ran.add("transfer");
        java.util.Set<String> read = RobustnessEvaluation.settingsRead(ran, c.minDistance());
        if (read.contains("steps")) attacks.put("steps", c.steps());
        if (read.contains("restarts")) attacks.put("restarts", c.restarts());
        if (read.contains("schedule")) attacks.put("schedule", c.schedule().name().toLowerCase(Locale.ROOT));
        if (read.contains("targets")) attacks.put("targets", c.targets());
        if (read.contains("square_queries")) attacks.put("square_queries", c.squareQueries());
        if (read.contains("ddn_steps")) attacks.put("ddn_steps", c.ddnSteps());
        if (c.cwSteps() > 0) attacks.put("cw_steps", c.cwSteps());
        attacks.put("seed", c.seed());
        if (c.eot() > 1 && read.contains("eot")) attacks.put("eot", c.eot());
        if (c.timeBudget() > 0) {
            attacks.put("time_budget_seconds_per_image", c.timeBudget());
            Map<String, Long> t = new LinkedHashMap<>();
            for (int e = 0; e < c.eps().length; e++) t.put(epsKey(c.eps()[e]), r.timeouts(e));
            attacks.put("timeouts", t);
        }
        m.put("attacks", attacks);
        Map<String, Object> time = new LinkedHashMap<>();
        time.put("seconds", r.seconds());
        time.put("ms_per_image", 1000 * r.seconds() / Math.max(1, r.n()));
        for (Map.Entry<String, Double> e : r.phaseSeconds().entrySet()) time.put(e.getKey() + "_ms_per_image", 1000 * e.getValue() / Math.max(1, r.n()));
        m.put("time", time);
        m.put("warnings", r.warnings());
        return m;
    }

    /** Writes every output into {@code run}; {@code header} (command, model, data, …) leads metrics.json, which is returned. */
    public static Map<String, Object> write(RunDirectory run, RobustnessEvaluation.Result r, Map<String, Object> header, String title) {
        RobustnessEvaluation.Config c = r.config();
        List<String> columns = new ArrayList<>(List.of("index", "label", "prediction", "correct", "margin", "grad_norm_dual",
                "l_bound", "c_bound", "min_distance", "found_by", "l2_distance_ddn"));
        if (c.cwSteps() > 0) columns.add("l2_distance_cw");   // only when asked for: the usual columns stay as they were
        for (double e : c.eps()) columns.add("robust_at_" + epsKey(e));
        columns.add("verdict");   // at the largest ε (verdict_eps); robust_at_<ε> has every ε
        if (c.eps().length > 0) columns.add("verdict_eps");
        List<List<Object>> rows = new ArrayList<>();
        for (RobustnessEvaluation.Row row : r.rows()) {
            // left empty what was not computed: margin and gradient norm without --bounds, and a distance where no
            // minimum-distance search ran and no attack broke the image (it is not +∞ away, it was only not searched)
            Object distance = !c.minDistance() && !Double.isFinite(row.minDistance()) ? "" : num(row.minDistance());
            List<Object> v = new ArrayList<>(List.of(row.index(), row.label(), row.prediction(), row.correct() ? 1 : 0,
                    c.bounds() ? num(row.margin()) : "", c.bounds() ? num(row.gradNorm()) : "", num(row.lBound()), num(row.cBound()), distance,
                    row.foundBy() == null ? "" : row.foundBy(), num(row.l2Distance())));
            if (c.cwSteps() > 0) v.add(num(row.cwDistance()));
            for (int e = 0; e < row.robust().length; e++) v.add(row.timedOut()[e] ? "timeout" : row.robust()[e] ? 1 : 0);
            v.add(row.verdict());
            if (c.eps().length > 0) v.add(c.eps()[c.eps().length - 1]);
            rows.add(v);
        }
        Csv.write(run.resolve("per_image.csv"), columns, rows);

        List<String> images = new ArrayList<>();
        if (c.eps().length > 0) {
            double[] xs = new double[c.eps().length + 1], acc = new double[xs.length], lb = new double[xs.length], cb = new double[xs.length];
            acc[0] = r.cleanAccuracy();
            for (int e = 0; e <= c.eps().length; e++) {
                double eps = e == 0 ? 0 : c.eps()[e - 1];
                xs[e] = eps;
                if (e > 0) acc[e] = r.robustAccuracy(e - 1);
                lb[e] = fraction(r, row -> row.correct() && (eps == 0 || row.lBound() >= eps));
                cb[e] = fraction(r, row -> row.correct() && (eps == 0 || row.cBound() >= eps));
            }
            // empirical (or a Monte Carlo estimate): drawn dotted, the style of every result that is no proof (solid is for sound ones)
            boolean monteCarlo = MONTE_CARLO.equals(header.get("robust_accuracy_kind"));
            List<Charts.Series> series = new ArrayList<>(List.of(new Charts.Series("robust accuracy (" + robustAccuracyLabel(r) + "), "
                    + (monteCarlo ? "Monte Carlo estimate" : "empirical"), xs, acc, Charts.Stroke.forKind(EMPIRICAL))));
            if (c.bounds()) series.add(new Charts.Series("L-bound ≥ ε (estimate)", xs, lb, Charts.Stroke.DOTTED));
            if (c.bounds() && !Double.isNaN(r.curvature())) series.add(new Charts.Series("C-bound ≥ ε (estimate)", xs, cb, Charts.Stroke.DOTTED));
            Charts.line(run.resolve("robust_accuracy.png"), "Accuracy under attack (" + c.norm() + ")", "ε", "fraction of images", series);
            images.add("robust_accuracy.png");
        }
        double[] found = correctRows(r).stream().mapToDouble(RobustnessEvaluation.Row::minDistance).filter(d -> Double.isFinite(d) && d > 0).toArray();
        if (found.length > 1) {
            Charts.histogram(run.resolve("distances.png"), "Smallest adversarial distance found (" + c.norm() + ")", "distance", found, 30);
            images.add("distances.png");
        }
        Map<String, Object> metrics = new LinkedHashMap<>(header);
        metrics.putAll(metrics(r));
        run.writeMetrics(metrics);
        String checked = !c.bounds() ? "" : " Bounds are estimates (constants measured on these points), checked against "
                + checkedAgainst(c) + (c.minDistance() || c.eps().length > 0 ? "; any violation is listed under warnings." : ".");
        HtmlReport.write(run.path(), title, "Per-image results in per_image.csv" + (c.eps().length > 1
                ? " (verdict: at the largest ε, verdict_eps; robust_at_<ε>: at each)." : ".") + checked, metrics, images);
        return metrics;
    }

    /** What the bounds were checked against: the smallest distances found, the ε-attacks' examples alone, or nothing. */
    static String checkedAgainst(RobustnessEvaluation.Config c) {
        if (c.minDistance()) {
            return "the smallest adversarial distances found (the minimum-distance search" + (c.eps().length > 0 ? " and the attacks" : "") + ")";
        }
        return c.eps().length > 0 ? "the attacks' adversarial examples at each ε only (no minimum-distance search ran)"
                : "nothing (no minimum-distance search or attack ran)";
    }

    /**
     * What decided robust accuracy, as stdout names it: the attack (unless none), transfer attacks, and the minimum-distance
     * search when it ran ("ensemble + minimum-distance search (ddn, fab-t)").
     */
    public static String robustAccuracyLabel(RobustnessEvaluation.Result r) {
        RobustnessEvaluation.Config c = r.config();
        List<String> ran = new ArrayList<>();
        if (!c.attack().equals(RobustnessEvaluation.NONE)) ran.add(c.attack());
        long transfers = r.attackNames().stream().filter(dev.tikhon.attack.Transfer::isTransfer).count();
        if (transfers > 0) ran.add(transfers + " transfer attack(s)");
        if (c.minDistance()) ran.add(RobustnessEvaluation.searchName(c));
        return String.join(" + ", ran);
    }

    /** Per ε, the fraction of images classified correctly whose L-bound (or C-bound) is ≥ ε. */
    private static Map<String, Double> boundFractions(RobustnessEvaluation.Result r, boolean cBound) {
        Map<String, Double> out = new LinkedHashMap<>();
        for (double eps : r.config().eps()) {
            out.put(epsKey(eps), fraction(r, row -> row.correct() && (cBound ? row.cBound() : row.lBound()) >= eps));
        }
        return out;
    }

    /** Member name → count (members of the same name, e.g. two APGD runs, add up). */
    private static Map<String, Integer> perMember(RobustnessEvaluation.Result r, int[] counts) {
        Map<String, Integer> m = new LinkedHashMap<>();
        for (int i = 0; i < r.attackNames().size(); i++) m.merge(r.attackNames().get(i), counts[i], Integer::sum);
        return m;
    }

    static String epsKey(double eps) {
        return String.format(Locale.ROOT, "%.6g", eps).replaceAll("\\.?0+$", "");
    }

    private static List<RobustnessEvaluation.Row> correctRows(RobustnessEvaluation.Result r) {
        return r.rows().stream().filter(RobustnessEvaluation.Row::correct).toList();
    }

    private static double fraction(RobustnessEvaluation.Result r, java.util.function.Predicate<RobustnessEvaluation.Row> p) {
        return r.rows().stream().filter(p).count() / (double) Math.max(1, r.n());
    }

    /** The median over correctly classified rows of a distance one attack found, counting NaN (not found) as +∞. */
    private static double medianFound(RobustnessEvaluation.Result r, java.util.function.ToDoubleFunction<RobustnessEvaluation.Row> distance) {
        return median(correctRows(r).stream().mapToDouble(distance).map(d -> Double.isNaN(d) ? Double.POSITIVE_INFINITY : d).sorted().toArray());
    }

    /** The median of an ascending array (NaN when empty). */
    public static double median(double[] sorted) {
        if (sorted.length == 0) return Double.NaN;
        int n = sorted.length;
        return n % 2 == 1 ? sorted[n / 2] : 0.5 * (sorted[n / 2 - 1] + sorted[n / 2]);
    }

    private static Object finiteOrNull(double v) {
        return Double.isFinite(v) ? v : null;
    }

    private static Object num(double v) {
        return Double.isNaN(v) ? "" : Double.isInfinite(v) ? "inf" : v;
    }
}
