package dev.tikhon.cli;

import dev.tikhon.certify.Certificate;
import dev.tikhon.certify.CertificationRun;
import dev.tikhon.certify.RandomizedSmoothing;
import dev.tikhon.certify.SmoothedAttack;
import dev.tikhon.report.Charts;
import dev.tikhon.report.Csv;
import dev.tikhon.report.Format;
import dev.tikhon.report.Progress;
import dev.tikhon.report.RunDirectory;
import dev.tikhon.scaleout.Runner;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/** What {@code tikhon certify} prints and writes from a run's result, and its {@code --attack-steps} check. */
final class CertifyOutputs {
    private CertifyOutputs() {}

    static Map<String, Object> attack(Runner runner, CertificationRun.Result r, String m, RandomizedSmoothing rs, int attackSteps,
                                      int attackRestarts, long seed) {
        Map<String, Object> a = new LinkedHashMap<>();
        a.put("attack", "l2 PGD-" + attackSteps + ", " + attackRestarts + " runs, at 0.999 x radius");
        // the certificate of the Monte Carlo smoothed classifier, which the attack's judge is
        String smoothed = m.equals("cohen") ? "cohen"
                : r.certificateNames().contains(dev.tikhon.certify.HeatCertification.MONTE_CARLO) ? dev.tikhon.certify.HeatCertification.MONTE_CARLO
                : null;
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
                System.out.printf(Locale.ROOT, "PGD-%d inside radius (%s): broke %d of %d heuristic single-pass radii (not certificates)%n", attackSteps, k, v[1], v[0]);
            });
        }
        return a;
    }

    /**
     * certify.csv, certified_accuracy.csv (certificate, kind, alpha (probabilistic only), norm, then one column per radius
     * of the run's grid: ℓ2 0 … 1, ℓ∞ 0 … 8/255), the steps' tables, and certified_accuracy.png, its axes named with
     * the run's norm and, for heuristic certificates, "not certified".
     */
    static void write(RunDirectory run, CertificationRun.Result r, double sigma, RandomizedSmoothing rs) {
        r.writeCsv(run.resolve("certify.csv"));
        List<String> header = new ArrayList<>(List.of("certificate", "kind", "alpha", "norm"));
        for (double radius : r.radii()) header.add("r=" + radius);
        List<List<Object>> rows = new ArrayList<>();
        for (String c : r.certificateNames()) {
            Certificate first = r.first(c);
            List<Object> row = new ArrayList<>(List.of(c, first.kind().name().toLowerCase(Locale.ROOT),
                    first.kind() == Certificate.Kind.PROBABILISTIC ? (Object) first.alpha() : "", r.norm()));
            for (double radius : r.radii()) row.add(r.certifiedAccuracy(c, radius));
            rows.add(row);
        }
        Csv.write(run.resolve("certified_accuracy.csv"), header, rows);
        r.details().forEach((key, value) -> {   // a step's tables (lipschitz: the bound's layers)
            if (value instanceof List<?> list && !list.isEmpty() && list.get(0) instanceof Map<?, ?> first) {
                List<List<Object>> table = new ArrayList<>();
                for (Object row : list) table.add(new ArrayList<>(((Map<?, ?>) row).values()));
                Csv.write(run.resolve(key + ".csv"), first.keySet().stream().map(String::valueOf).toList(), table);
            }
        });
        double largest = r.images().stream().flatMap(i -> i.certificates().values().stream())
                .mapToDouble(c -> c.abstained() ? 0 : c.radius()).filter(Double::isFinite).max().orElse(0);
        double[] grid = r.radii();
        double max = rs != null ? Math.max(1.0, Math.min(rs.maxRadius(), 4 * sigma))
                : r.norm().equals("linf") ? Math.max(1.1 * largest, 1.05 * grid[grid.length - 1])
                : largest > 0 && largest < 1 ? 1.1 * largest : Math.max(1.0, largest);
        boolean allHeuristic = r.certificateNames().stream().allMatch(c -> kind(r, c) == Certificate.Kind.HEURISTIC);
        boolean someHeuristic = r.certificateNames().stream().anyMatch(c -> kind(r, c) == Certificate.Kind.HEURISTIC);
        String what = allHeuristic ? "accuracy at heuristic radius ≥ r (not certified)"
                : someHeuristic ? "certified accuracy (heuristic curves: not certified)" : "certified accuracy";
        Charts.line(run.resolve("certified_accuracy.png"), (allHeuristic ? "Accuracy at heuristic radius" : "Certified accuracy") + " ("
                        + r.method() + (rs != null ? ", σ " + sigma : "") + ")",
                CertificationRun.normSymbol(r.norm()) + " radius r", what, r.curves(r.method() + " ", max));
    }

    private static Certificate.Kind kind(CertificationRun.Result r, String c) {
        return r.first(c).kind();
    }

    /**
     * The table on stdout: one row per certificate, with its kind (and α), at the radii of the run's norm; a heuristic
     * row is said not to be certified, and where a probabilistic certificate is capped at σΦ⁻¹(α^{1/N}) the cap is printed
     * and the radii above it are marked "(cap)".
     */
    static void print(CertificationRun.Result r, RandomizedSmoothing rs) {
        double[] radii = r.radii();
        boolean probabilistic = r.certificateNames().stream().anyMatch(c -> kind(r, c) == Certificate.Kind.PROBABILISTIC);
        double cap = rs != null && probabilistic ? rs.maxRadius() : Double.POSITIVE_INFINITY;
        boolean allHeuristic = r.certificateNames().stream().allMatch(c -> kind(r, c) == Certificate.Kind.HEURISTIC);
        System.out.println((allHeuristic ? "accuracy at heuristic radius ≥ r (not certified)" : "certified accuracy") + " by "
                + CertificationRun.normSymbol(r.norm()) + " radius r:");
        StringBuilder h = new StringBuilder(String.format(Locale.ROOT, "%-12s", "certificate"));
        for (double radius : radii) {
            String label = "r=" + Format.radius(radius) + (radius > cap ? " (cap)" : "");
            h.append(String.format(Locale.ROOT, "  %" + Math.max(7, label.length()) + "s", label));
        }
        System.out.println(h);
        for (String c : r.certificateNames()) {
            StringBuilder line = new StringBuilder(String.format(Locale.ROOT, "%-12s", c));
            for (double radius : radii) {
                String label = "r=" + Format.radius(radius) + (radius > cap ? " (cap)" : "");
                line.append(String.format(Locale.ROOT, "  %" + Math.max(7, label.length()) + ".3f", r.certifiedAccuracy(c, radius)));
            }
            String kind = switch (kind(r, c)) {
                case HEURISTIC -> "heuristic: accuracy at radius ≥ r, not certified";
                case PROBABILISTIC -> "probabilistic, α = " + Format.number(r.first(c).alpha());
                default -> r.kindOf(c);
            };
            System.out.println(line + "   (" + kind + ")");
        }
        if (Double.isFinite(cap) && radii[radii.length - 1] > cap) {
            RandomizedSmoothing.Config k = rs.config();
            System.out.printf(Locale.ROOT, "radius cap σΦ⁻¹(α^{1/N}) = %.4f (σ %s, α %s, N %d): no probabilistic radius can exceed it, "
                    + "so a probabilistic row is 0 in the columns marked (cap)%n", cap, Format.number(k.sigma()), Format.number(k.alpha()), k.n());
        }
        String classify = Double.isNaN(r.meanClassifySeconds()) ? "" : String.format(Locale.ROOT, "classification %.3f ms/image%s, ",
                1000 * r.meanClassifySeconds(), r.predictImages() > 0 && r.predictImages() < r.images().size()
                        ? " (PREDICT, first " + r.predictImages() + " images)" : "");
        if (r.smoothedPrediction()) {
            Object base = r.details().get("base_model_clean_accuracy");
            System.out.printf(Locale.ROOT, "accuracy of the smoothed classifier (abstain = wrong; = certified accuracy at r = 0) %.4f on %d images%s; "
                            + "%scertification %.1f ms/image%n", r.cleanAccuracy(), r.images().size(),
                    base instanceof Double b ? String.format(Locale.ROOT, "; base model's clean accuracy %.4f", b) : "",
                    classify, 1000 * r.meanCertifySeconds());
        } else {
            System.out.printf(Locale.ROOT, "clean accuracy %.4f on %d images; %scertification %.1f ms/image%n", r.cleanAccuracy(),
                    r.images().size(), classify, 1000 * r.meanCertifySeconds());
        }
        if (r.details().get("note") instanceof String note) System.out.println(note);
        if (!Double.isNaN(r.agreement())) System.out.printf(Locale.ROOT, "single pass agrees with the smoothed classifier on %.1f%% of images%n", 100 * r.agreement());
    }
}
