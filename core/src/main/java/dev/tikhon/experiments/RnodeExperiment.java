package dev.tikhon.experiments;

import dev.tikhon.engine.Device;
import dev.tikhon.flow.FlowConfig;
import dev.tikhon.pipeline.FlowRuns;
import dev.tikhon.flow.FlowTraining;
import dev.tikhon.report.Charts;
import dev.tikhon.report.Csv;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;

/**
 * The claim of Finlay, Jacobsen, Nurbekyan &amp; Oberman, "How to train your neural ODE" (docs/methods.md §6):
 * with the kinetic-energy and Jacobian-Frobenius penalties (λ_K = λ_J = 0.01) a continuous
 * normalizing flow needs far fewer function evaluations, and so less wall time, at the same or
 * better likelihood. For each data set it trains the same flow twice, unregularized and RNODE, with
 * the same seed, batches, solver and number of iterations, and records NFE per iteration, wall time
 * and the held-out NLL under one evaluation solver (Dopri5 at 1e-5, exact divergence), with the
 * evaluation NFE. Each run is its own resumable directory.
 */
public final class RnodeExperiment {
    /**
     * The experiment's budget and training settings, shared by every run. Image sets (fashion-mnist,
     * mnist) use the multiscale model with {@code imageChannels}, Rademacher divergence, their own
     * iteration count, batch size and number of held-out test images.
     */
    public record Budget(List<String> datasets, int iterations, int batchSize, String solver, double step, double tolerance,
                         double lambda, int heldOut, long seed, int imageIterations, int imageBatchSize, int imageChannels,
                         int imageHeldOut) {}

    private final Budget budget;
    private final Device device;
    private final Path dir;
    private final Path dataDir;

    /** @param dataDir where image sets are looked for (null: the usual places) */
    public RnodeExperiment(Budget budget, Device device, Path dir, Path dataDir) {
        this.budget = budget;
        this.device = device;
        this.dir = dir;
        this.dataDir = dataDir;
    }

    FlowConfig config(String data, double lambda) {
        if (dev.tikhon.flow.Flows.isImages(data)) {
            return new FlowConfig("cnf", data, "multiscale", new int[]{64, 64, 64}, "softplus", budget.imageChannels(), 2, 1.0,
                    "rademacher", budget.solver(), budget.step(), budget.tolerance(), budget.tolerance(), "backprop", FlowConfig.rnode(lambda, lambda),
                    budget.imageIterations(), budget.imageBatchSize(), 1e-3, 0, budget.seed(), 10);
        }
        return new FlowConfig("cnf", data, "mlp", new int[]{64, 64, 64}, "softplus", 64, 2, 1.0, "exact", budget.solver(),
                budget.step(), budget.tolerance(), budget.tolerance(), "backprop", FlowConfig.rnode(lambda, lambda), budget.iterations(),
                budget.batchSize(), 1e-3, 0, budget.seed(), 100);
    }

    /** Runs (or resumes) every training and returns the summary; results.csv, nfe-DATA.png are written into the directory. */
    public Map<String, Object> run(Function<String, FlowTraining.Listener> listeners) {
        List<Map<String, Object>> rows = new ArrayList<>();
        for (String data : budget.datasets()) {
            Map<String, List<Map<String, Object>>> histories = new LinkedHashMap<>();
            for (String variant : List.of("unregularized", "rnode")) {
                double lambda = variant.equals("rnode") ? budget.lambda() : 0;
                Path runDir = dir.resolve(data + "-" + variant);
                boolean images = dev.tikhon.flow.Flows.isImages(data);
                FlowRuns.Trained t = FlowRuns.train(config(data, lambda), device, runDir, true,
                        images ? budget.imageHeldOut() : budget.heldOut(), dataDir, listeners.apply(data + " " + variant));
                histories.put(variant, t.outcome().history());
                rows.add(row(data, variant, lambda, t));
            }
            nfePlot(data, histories);
        }
        Csv.writeRecords(dir.resolve("results.csv"), rows);
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("budget", budget);
        out.put("results", rows);
        out.put("ratios", ratios(rows));
        return out;
    }

    private static Map<String, Object> row(String data, String variant, double lambda, FlowRuns.Trained t) {
        List<Map<String, Object>> h = t.outcome().history();
        int n = h.size(), tail = Math.max(1, n / 10);
        Map<String, Object> r = new LinkedHashMap<>();
        r.put("data", data);
        r.put("variant", variant);
        r.put("unit", t.heldOut().unit());
        r.put("lambda", lambda);
        r.put("iterations", n);
        r.put("nfe_first_10pct", mean(h.subList(0, tail), "nfe_forward"));
        r.put("nfe_last_10pct", mean(h.subList(n - tail, n), "nfe_forward"));
        r.put("nfe_total", FlowRuns.sum(h, "nfe_forward") + FlowRuns.sum(h, "nfe_backward"));
        r.put("train_seconds", t.outcome().seconds());
        r.put("heldout_nll", t.heldOut().nll());
        r.put("heldout_nll_stderr", t.heldOut().standardError());
        r.put("eval_nfe", t.heldOut().nfePerBatch());
        r.put("final_kinetic", mean(h.subList(n - tail, n), "kinetic"));
        r.put("final_jacobian", mean(h.subList(n - tail, n), "jacobian"));
        return r;
    }

    /** Per data set: RNODE ÷ unregularized, for total NFE, wall time, evaluation NFE; and the NLL difference. */
    static List<Map<String, Object>> ratios(List<Map<String, Object>> rows) {
        List<Map<String, Object>> out = new ArrayList<>();
        for (int i = 0; i + 1 < rows.size(); i += 2) {
            Map<String, Object> u = rows.get(i), r = rows.get(i + 1);
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("data", u.get("data"));
            m.put("nfe_total_ratio", num(r, "nfe_total") / num(u, "nfe_total"));
            m.put("nfe_last_10pct_ratio", num(r, "nfe_last_10pct") / num(u, "nfe_last_10pct"));
            m.put("wall_time_ratio", num(r, "train_seconds") / num(u, "train_seconds"));
            m.put("eval_nfe_ratio", num(r, "eval_nfe") / num(u, "eval_nfe"));
            m.put("nll_difference", num(r, "heldout_nll") - num(u, "heldout_nll"));
            out.add(m);
        }
        return out;
    }

    private void nfePlot(String data, Map<String, List<Map<String, Object>>> histories) {
        List<Charts.Series> series = new ArrayList<>();
        histories.forEach((variant, h) -> {
            double[] x = new double[h.size()], y = new double[h.size()];
            for (int i = 0; i < h.size(); i++) {
                x[i] = num(h.get(i), "iteration");
                y[i] = num(h.get(i), "nfe_forward") + num(h.get(i), "nfe_backward");
            }
            series.add(new Charts.Series(variant, x, y));
        });
        Charts.line(dir.resolve("nfe-" + data + ".png"), data + ": function evaluations per training iteration", "iteration", "NFE", series);
    }

    static double num(Map<String, Object> row, String k) { return ((Number) row.get(k)).doubleValue(); }

    static double mean(List<Map<String, Object>> rows, String k) { return FlowRuns.sum(rows, k) / rows.size(); }
}
