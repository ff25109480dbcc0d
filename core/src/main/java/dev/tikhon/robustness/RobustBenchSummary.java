package dev.tikhon.robustness;

import dev.tikhon.attack.Norm;
import dev.tikhon.report.Json;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * {@value #FILE}: an attack run's result in the shape of a RobustBench leaderboard entry (its model-info files name the
 * threat model "Linf" or "L2", ε, and give clean and robust accuracy in percent, "autoattack_acc" when AutoAttack's
 * standard ensemble alone decided it), beside metrics.json, so the tools that read those entries read Tikhon's. One entry
 * per ε of the run, under "by_eps"; the top level is the largest ε (RobustBench's entries have one).
 */
public final class RobustBenchSummary {
    public static final String FILE = "robustbench.json";

    private RobustBenchSummary() {}

    /** The summary of {@code r} for model {@code model} on data set {@code dataset}, its robust accuracy empirical. */
    public static Map<String, Object> of(RobustnessEvaluation.Result r, String model, String dataset) {
        return of(r, model, dataset, RobustnessReport.EMPIRICAL);
    }

    /**
     * The same, with the kind of its robust accuracy ({@link RobustnessReport#EMPIRICAL}, or {@link RobustnessReport#MONTE_CARLO}
     * for the smoothed classifier of {@code attack --smoothed}), under "kind".
     */
    public static Map<String, Object> of(RobustnessEvaluation.Result r, String model, String dataset, String kind) {
        RobustnessEvaluation.Config c = r.config();
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("name", model);
        m.put("dataset", dataset);
        m.put("threat_model", c.norm() == Norm.LINF ? "Linf" : "L2");
        m.put("n_examples", r.n());
        m.put("clean_acc", percent(r.cleanAccuracy()));
        // Transfer members, or the minimum-distance search (a point it broke within ε is not attacked again), make it more
        // than AutoAttack's ensemble: its figure is then lower than AutoAttack's accuracy, and not to be compared as one.
        boolean transfer = r.attackNames().stream().anyMatch(dev.tikhon.attack.Transfer::isTransfer);
        boolean autoAttack = c.attack().equals("ensemble") && !transfer && !c.minDistance();
        List<Map<String, Object>> byEps = new ArrayList<>();
        for (int e = 0; e < c.eps().length; e++) {
            Map<String, Object> one = new LinkedHashMap<>();
            one.put("eps", c.eps()[e]);
            one.put(autoAttack ? "autoattack_acc" : "robust_acc", percent(r.robustAccuracy(e)));
            byEps.add(one);
        }
        if (!byEps.isEmpty()) m.putAll(byEps.get(byEps.size() - 1));
        // --attack none: what did run (transfer attacks, the minimum-distance search), not "none" beside a robust accuracy
        m.put("attack", autoAttack ? "AutoAttack standard ensemble (" + String.join(", ", r.attackNames()) + ")"
                : String.join(", ", RobustnessEvaluation.robustAccuracyBy(r)));
        m.put("kind", kind);
        m.put("by_eps", byEps);
        m.put("source", "tikhon attack (metrics.json beside this file holds every detail)");
        return m;
    }

    /** Writes {@link #of} into {@code dir} (atomically). */
    public static void write(Path dir, RobustnessEvaluation.Result r, String model, String dataset) {
        write(dir, r, model, dataset, RobustnessReport.EMPIRICAL);
    }

    /** The same, with the kind of its robust accuracy. */
    public static void write(Path dir, RobustnessEvaluation.Result r, String model, String dataset, String kind) {
        Json.write(dir.resolve(FILE), of(r, model, dataset, kind));
    }

    /** A fraction as RobustBench's percentage with two decimals ("91.23"). */
    static String percent(double fraction) {
        return String.format(java.util.Locale.ROOT, "%.2f", 100 * fraction);
    }
}
