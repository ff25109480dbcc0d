package dev.tikhon.experiments;

import dev.tikhon.engine.Device;
import dev.tikhon.flow.FlowConfig;
import dev.tikhon.pipeline.FlowRuns;
import dev.tikhon.flow.FlowTraining;
import com.fasterxml.jackson.annotation.JsonIgnore;
import com.fasterxml.jackson.annotation.JsonProperty;
import dev.tikhon.report.Csv;
import dev.tikhon.report.Json;

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
        return new FlowConfig("ek", data, FIELD, ode("dopri5"), Map.of(), training(),
                new FlowConfig.Ek(budget.epsilon(), budget.mcSamples(), budget.alpha(), budget.flowSamples()));
    }

    FlowConfig cnf(String data) {
        return new FlowConfig("cnf", data, FIELD, ode("rk4"), Map.of(), training());
    }

    /** Both methods: an MLP 64-64-64 softplus (the CNF's field; EK's potentials φ, ψ), T = 1, exact divergence. */
    private static final FlowConfig.Field FIELD = FlowConfig.Field.mlp(new int[]{64, 64, 64}, "softplus");

    private static FlowConfig.Ode ode(String solver) {
        return new FlowConfig.Ode(1.0, "exact", new FlowConfig.Solver(solver, 0.25, 1e-5, 1e-5), "backprop");
    }

    /** The same iterations, batch, Adam learning rate (1e-3, no weight decay) and seed for both; a checkpoint every 100. */
    private FlowConfig.Training training() {
        return new FlowConfig.Training(budget.iterations(), budget.batchSize(), 1e-3, 0, budget.seed(), 100);
    }

    /** One trained flow: its data set, method (ek or cnf), training and held-out evaluation (seconds, NLL, NFE per batch). */
    public record Row(String data, String method, String unit, int iterations, @JsonProperty("train_seconds") double trainSeconds,
                      @JsonProperty("heldout_nll") double heldoutNll, @JsonProperty("heldout_nll_stderr") double heldoutNllStderr,
                      @JsonProperty("eval_nfe") double evalNfe, @JsonProperty("eval_seconds") double evalSeconds,
                      @JsonProperty("run_seconds") double runSeconds) {}

    /** The experiment's result: its budget, one row per (data set, method), and the pictures of the report (not in metrics). */
    public record Result(Budget budget, List<Row> results, @JsonIgnore List<String> images, @JsonIgnore Map<String, String> captions) {}

    /** "EK flow" or "CNF": how captions and titles name a method. */
    public static String methodName(String method) { return method.equals("ek") ? "EK flow" : "CNF"; }

    private static final List<String> METHODS = List.of("ek", "cnf");

    private FlowConfig config(String data, String method) { return method.equals("ek") ? ek(data) : cnf(data); }

    /** Runs (or resumes) every training; writes results.csv and returns the result. */
    public Result run(Function<String, FlowTraining.Listener> listeners) {
        List<Row> rows = new ArrayList<>();
        List<String> images = new ArrayList<>();
        Map<String, String> captions = new LinkedHashMap<>();
        // every earlier run reused must have the settings asked for: checked before anything trains
        for (String data : budget.datasets()) {
            for (String method : METHODS) FlowRuns.requireSameSettings(config(data, method), dir.resolve(data + "-" + method));
        }
        for (String data : budget.datasets()) {
            for (String method : METHODS) {
                Path runDir = dir.resolve(data + "-" + method);
                long t0 = System.nanoTime();
                FlowRuns.Trained t = FlowRuns.train(config(data, method), device, runDir, true, budget.heldOut(),
                        null, budget.grid(), listeners.apply(data + " " + method));
                rows.add(new Row(data, method, t.heldOut().unit(), t.outcome().history().size(), t.outcome().seconds(), t.heldOut().nll(),
                        t.heldOut().standardError(), t.heldOut().nfePerBatch(), t.heldOut().seconds(),
                        (System.nanoTime() - t0) / 1e9));   // run_seconds: this call: training (or what a resume added), evaluation, pictures
                String who = data + " — " + methodName(method);
                if (method.equals("ek")) {
                    images.add(data + "-ek/data.png");
                    captions.put(data + "-ek/data.png", data + " — " + budget.heldOut() + " held-out data points (the same for both methods)");
                }
                images.add(data + "-" + method + "/density.png");
                captions.put(data + "-" + method + "/density.png", who + ": model density");
                images.add(data + "-" + method + "/samples.png");
                captions.put(data + "-" + method + "/samples.png", who + ": samples");
            }
        }
        Csv.writeRecords(dir.resolve("results.csv"), rows.stream().map(Json::toMap).toList());
        return new Result(budget, rows, images, captions);
    }
}
