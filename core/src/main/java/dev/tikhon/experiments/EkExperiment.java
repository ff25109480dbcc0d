package dev.tikhon.experiments;

import dev.tikhon.engine.Device;
import dev.tikhon.flow.FlowConfig;
import dev.tikhon.pipeline.FlowRuns;
import dev.tikhon.flow.FlowTraining;
import dev.tikhon.report.Csv;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;

/**
 * Finlay, Gerolin, Oberman &amp; Pooladian (docs/methods.md §7): a normalizing flow learned from entropy–Kantorovich
 * potentials. On each 2-D toy set it trains the EK potentials (alternating dual ascent) and, with the
 * same number of iterations, batch size, learning rate and seed, the CNF of docs/methods.md §6 by maximum likelihood
 * (no regularizer, RK4); both are evaluated on the same held-out points with Dopri5 at 1e-5 and the exact
 * divergence, and each run directory has density.png, samples.png and data.png. Each run is resumable.
 */
public final class EkExperiment {
    /** The budget shared by the runs of every data set. */
    public record Budget(List<String> datasets, int iterations, int batchSize, double epsilon, int mcSamples, int flowSamples,
                         double alpha, int heldOut, long seed, int grid) {
        /** With the full 100 × 100 density grid. */
        public Budget(List<String> datasets, int iterations, int batchSize, double epsilon, int mcSamples, int flowSamples,
                      double alpha, int heldOut, long seed) {
            this(datasets, iterations, batchSize, epsilon, mcSamples, flowSamples, alpha, heldOut, seed, FlowRuns.DENSITY_GRID);
        }
    }

    private final Budget budget;
    private final Device device;
    private final Path dir;

    public EkExperiment(Budget budget, Device device, Path dir) {
        this.budget = budget;
        this.device = device;
        this.dir = dir;
    }

    FlowConfig ek(String data) {
        return new FlowConfig("ek", data, "mlp", new int[]{64, 64, 64}, "softplus", 64, 2, 1.0, "exact", "dopri5", 0.25, 1e-5, 1e-5,
                "backprop", Map.of(), budget.iterations(), budget.batchSize(), 1e-3, 0, budget.seed(), 100,
                new FlowConfig.Ek(budget.epsilon(), budget.mcSamples(), budget.alpha(), budget.flowSamples()));
    }

    FlowConfig cnf(String data) {
        return new FlowConfig("cnf", data, "mlp", new int[]{64, 64, 64}, "softplus", 64, 2, 1.0, "exact", "rk4", 0.25, 1e-5, 1e-5,
                "backprop", Map.of(), budget.iterations(), budget.batchSize(), 1e-3, 0, budget.seed(), 100);
    }

    /** Runs (or resumes) every training; writes results.csv and returns the summary. */
    public Map<String, Object> run(Function<String, FlowTraining.Listener> listeners) {
        List<Map<String, Object>> rows = new ArrayList<>();
        List<String> images = new ArrayList<>();
        for (String data : budget.datasets()) {
            for (String method : List.of("ek", "cnf")) {
                Path runDir = dir.resolve(data + "-" + method);
                long t0 = System.nanoTime();
                FlowRuns.Trained t = FlowRuns.train(method.equals("ek") ? ek(data) : cnf(data), device, runDir, true, budget.heldOut(),
                        null, budget.grid(), listeners.apply(data + " " + method));
                Map<String, Object> r = new LinkedHashMap<>();
                r.put("data", data);
                r.put("method", method);
                r.put("iterations", t.outcome().history().size());
                r.put("train_seconds", t.outcome().seconds());
                r.put("heldout_nll", t.heldOut().nll());
                r.put("heldout_nll_stderr", t.heldOut().standardError());
                r.put("eval_nfe", t.heldOut().nfePerBatch());
                r.put("eval_seconds", t.heldOut().seconds());
                r.put("run_seconds", (System.nanoTime() - t0) / 1e9);   // this call: training (or what a resume added), evaluation, pictures
                rows.add(r);
                if (method.equals("ek")) images.add(data + "-ek/data.png");
                images.add(data + "-" + method + "/density.png");
                images.add(data + "-" + method + "/samples.png");
            }
        }
        Csv.writeRecords(dir.resolve("results.csv"), rows);
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("budget", budget);
        out.put("results", rows);
        out.put("images", images);
        return out;
    }
}
