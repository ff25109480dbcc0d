package dev.tikhon.cli;

import dev.tikhon.certify.CertificationRun;
import dev.tikhon.certify.RandomizedSmoothing;
import dev.tikhon.certify.SmoothedAttack;
import dev.tikhon.report.Charts;
import dev.tikhon.report.Csv;
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
                System.out.printf(Locale.ROOT, "PGD-%d inside radius (%s): broke %d of %d single-pass certificates%n", attackSteps, k, v[1], v[0]);
            });
        }
        return a;
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
        r.details().forEach((key, value) -> {   // a step's tables (lipschitz: the bound's layers)
            if (value instanceof List<?> list && !list.isEmpty() && list.get(0) instanceof Map<?, ?> first) {
                List<List<Object>> table = new ArrayList<>();
                for (Object row : list) table.add(new ArrayList<>(((Map<?, ?>) row).values()));
                Csv.write(run.resolve(key + ".csv"), first.keySet().stream().map(String::valueOf).toList(), table);
            }
        });
        double largest = r.images().stream().flatMap(i -> i.certificates().values().stream())
                .mapToDouble(c -> c.abstained() ? 0 : c.radius()).filter(Double::isFinite).max().orElse(0);
        double max = rs != null ? Math.max(1.0, Math.min(rs.maxRadius(), 4 * sigma)) : largest > 0 && largest < 1 ? 1.1 * largest : Math.max(1.0, largest);
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
            String kind = r.images().get(0).certificates().get(c).kind().name().toLowerCase(Locale.ROOT);
            System.out.println(line + "   (" + kind + ")");
        }
        String classify = Double.isNaN(r.meanClassifySeconds()) ? "" : String.format(Locale.ROOT, "classification %.3f ms/image, ",
                1000 * r.meanClassifySeconds());
        System.out.printf(Locale.ROOT, "clean accuracy %.4f on %d images; %scertification %.1f ms/image%n", r.cleanAccuracy(),
                r.images().size(), classify, 1000 * r.meanCertifySeconds());
        if (r.details().get("note") instanceof String note) System.out.println(note);
        if (!Double.isNaN(r.agreement())) System.out.printf(Locale.ROOT, "single pass agrees with the smoothed classifier on %.1f%% of images%n", 100 * r.agreement());
    }
}
