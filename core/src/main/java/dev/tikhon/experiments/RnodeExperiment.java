package dev.tikhon.experiments;

import dev.tikhon.engine.Device;
import dev.tikhon.flow.FlowConfig;
import dev.tikhon.pipeline.FlowRuns;
import dev.tikhon.flow.FlowTraining;
import dev.tikhon.report.Charts;
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
 * The claim of Finlay, Jacobsen, Nurbekyan &amp; Oberman, "How to train your neural ODE" (docs/methods.md §6):
 * with the kinetic-energy and Jacobian-Frobenius penalties (λ_K = λ_J = 0.01) a continuous
 * normalizing flow needs far fewer function evaluations, and so less wall time, at the same or
 * better likelihood. For each data set it trains the same flow twice, unregularized and RNODE, with
 * the same seed, batches, solver and number of iterations, and records NFE per iteration, wall time
 * and the held-out NLL under one evaluation solver (Dopri5 at 1e-5; exact divergence for the toy sets,
 * a Hutchinson estimate with Rademacher noise for images), with the evaluation NFE. Each run is its
 * own resumable directory.
 *
 * <p>Wall time: before a data set's timed runs both variants train {@link #WARMUP_ITERATIONS}
 * untimed iterations in a throwaway directory, so that the first timed run does not carry the
 * process's warm-up (JIT compilation, libtorch's first kernels and allocations) and the second
 * does not profit from it. Without it the unregularized run, which goes first, was about twice as
 * slow per NFE as the RNODE run (docs/flows.md).
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

    /** Untimed iterations each variant trains before a data set's timed runs (fewer if the runs are shorter). */
    public static final int WARMUP_ITERATIONS = 10;

    /** What the NFE columns count, for the report: every run backprops through the solver (config), so forward evaluations. */
    public static final String NFE_NOTE = "nfe_* count forward function evaluations (per iteration, or summed for nfe_total): "
            + "the runs backpropagate through the solver's steps, which has no adjoint solve to count (history.csv leaves "
            + "nfe_backward empty); its backward pass costs about what the forward pass did";

    /** Task names the warm-up's listeners get: {@code "DATA warm-up VARIANT"}. */
    public static final String WARMUP = "warm-up";

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
        FlowConfig.Solver solver = new FlowConfig.Solver(budget.solver(), budget.step(), budget.tolerance(), budget.tolerance());
        if (dev.tikhon.flow.Flows.isImages(data)) {
            return new FlowConfig("cnf", data, FlowConfig.Field.multiscale(budget.imageChannels(), 2),
                    new FlowConfig.Ode(1.0, "rademacher", solver, "backprop"), FlowConfig.rnode(lambda, lambda),
                    new FlowConfig.Training(budget.imageIterations(), budget.imageBatchSize(), 1e-3, 0, budget.seed(), 10));
        }
        return new FlowConfig("cnf", data, FlowConfig.Field.mlp(new int[]{64, 64, 64}, "softplus"),
                new FlowConfig.Ode(1.0, "exact", solver, "backprop"), FlowConfig.rnode(lambda, lambda),
                new FlowConfig.Training(budget.iterations(), budget.batchSize(), 1e-3, 0, budget.seed(), 100));
    }

    /**
     * One trained flow: forward NFE at the start and end of training (means over the first and last 10% of iterations), in
     * total (forward, plus an adjoint's backward NFE: the runs here backprop through the solver, which counts none, so
     * forward only; {@link #NFE_NOTE}), wall time, held-out NLL in {@code unit} (nats, or bits/dim for images), evaluation
     * NFE per batch, and the regularizer integrals at the end of training.
     */
    public record Row(String data, String variant, String unit, double lambda, int iterations,
                      @JsonProperty("nfe_first_10pct") double nfeFirst10pct, @JsonProperty("nfe_last_10pct") double nfeLast10pct,
                      @JsonProperty("nfe_total") double nfeTotal, @JsonProperty("train_seconds") double trainSeconds,
                      @JsonProperty("heldout_nll") double heldoutNll, @JsonProperty("heldout_nll_stderr") double heldoutNllStderr,
                      @JsonProperty("eval_nfe") double evalNfe, @JsonProperty("final_kinetic") double finalKinetic,
                      @JsonProperty("final_jacobian") double finalJacobian) {}

    /**
     * Per data set: RNODE ÷ unregularized for total NFE, last-10% NFE, wall time (training seconds, both timed after
     * the warm-up), evaluation NFE; and the held-out NLL difference RNODE − unregularized in {@code unit} (nats, or
     * bits/dim for images: a Hutchinson estimate).
     */
    public record Ratio(String data, String unit, @JsonProperty("nfe_total_ratio") double nfeTotalRatio,
                        @JsonProperty("nfe_last_10pct_ratio") double nfeLast10pctRatio, @JsonProperty("wall_time_ratio") double wallTimeRatio,
                        @JsonProperty("eval_nfe_ratio") double evalNfeRatio, @JsonProperty("nll_difference") double nllDifference) {}

    /** The experiment's result. */
    public record Result(Budget budget, List<Row> results, List<Ratio> ratios) {}

    /** Runs (or resumes) every training and returns the result; results.csv, nfe-DATA.png are written into the directory. */
    public Result run(Function<String, FlowTraining.Listener> listeners) {
        List<Row> rows = new ArrayList<>();
        // every earlier run reused must have the settings asked for: checked before anything trains
        for (String data : budget.datasets()) {
            for (String v : VARIANTS) FlowRuns.requireSameSettings(config(data, lambda(v)), dir.resolve(data + "-" + v));
        }
        for (String data : budget.datasets()) {
            Map<String, List<Map<String, Object>>> histories = new LinkedHashMap<>();
            boolean images = dev.tikhon.flow.Flows.isImages(data);
            if (VARIANTS.stream().anyMatch(v -> !finished(data, v))) warmUp(data, listeners);
            for (String variant : VARIANTS) {
                double lambda = lambda(variant);
                Path runDir = dir.resolve(data + "-" + variant);
                FlowRuns.Trained t = FlowRuns.train(config(data, lambda), device, runDir, true,
                        images ? budget.imageHeldOut() : budget.heldOut(), dataDir, listeners.apply(data + " " + variant));
                histories.put(variant, t.outcome().history());
                rows.add(row(data, variant, lambda, t));
            }
            nfePlot(data, histories);
        }
        Csv.writeRecords(dir.resolve("results.csv"), rows.stream().map(Json::toMap).toList());
        return new Result(budget, rows, ratios(rows));
    }

    static final List<String> VARIANTS = List.of("unregularized", "rnode");

    private double lambda(String variant) { return variant.equals("rnode") ? budget.lambda() : 0; }

    private int iterations(String data) {
        return dev.tikhon.flow.Flows.isImages(data) ? budget.imageIterations() : budget.iterations();
    }

    /** Whether {@code variant}'s run on {@code data} has a checkpoint with all its iterations (a rerun trains nothing). */
    boolean finished(String data, String variant) {
        Path ckpt = dir.resolve(data + "-" + variant).resolve(FlowTraining.CHECKPOINT);
        return java.nio.file.Files.exists(ckpt) && FlowTraining.load(ckpt).meta().iteration() >= iterations(data);
    }

    /**
     * Trains both variants {@link #WARMUP_ITERATIONS} iterations (at most the run's) on {@code data} with the timed runs'
     * settings, in a directory that is deleted afterwards; nothing of it is timed or reported. The timed runs reseed
     * their model and batches, so their numbers do not depend on it.
     */
    private void warmUp(String data, Function<String, FlowTraining.Listener> listeners) {
        int w = Math.min(WARMUP_ITERATIONS, iterations(data));
        Path tmp = dir.resolve(".warm-up");
        try {
            for (String variant : VARIANTS) {
                java.nio.file.Files.createDirectories(tmp.resolve(variant));
                FlowRuns.trainOnly(config(data, lambda(variant)).withIterations(w), device, tmp.resolve(variant), dataDir,
                        listeners.apply(data + " " + WARMUP + " " + variant));
            }
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        } finally {
            deleteTree(tmp);
        }
    }

    private static void deleteTree(Path root) {
        if (!java.nio.file.Files.exists(root)) return;
        try (var paths = java.nio.file.Files.walk(root)) {
            for (Path p : paths.sorted(java.util.Comparator.reverseOrder()).toList()) java.nio.file.Files.deleteIfExists(p);
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException("cannot delete the warm-up directory " + root, e);
        }
    }

    private static Row row(String data, String variant, double lambda, FlowRuns.Trained t) {
        List<Map<String, Object>> h = t.outcome().history();
        int n = h.size(), tail = Math.max(1, n / 10);
        return new Row(data, variant, t.heldOut().unit(), lambda, n, mean(h.subList(0, tail), "nfe_forward"),
                mean(h.subList(n - tail, n), "nfe_forward"), FlowRuns.sum(h, "nfe_forward") + backward(h),
                t.outcome().seconds(), t.heldOut().nll(), t.heldOut().standardError(), t.heldOut().nfePerBatch(),
                mean(h.subList(n - tail, n), "kinetic"), mean(h.subList(n - tail, n), "jacobian"));
    }

    /** Per data set (rows in pairs: unregularized, then rnode): RNODE ÷ unregularized, and the NLL difference. */
    static List<Ratio> ratios(List<Row> rows) {
        List<Ratio> out = new ArrayList<>();
        for (int i = 0; i + 1 < rows.size(); i += 2) {
            Row u = rows.get(i), r = rows.get(i + 1);
            out.add(new Ratio(u.data(), u.unit(), r.nfeTotal() / u.nfeTotal(), r.nfeLast10pct() / u.nfeLast10pct(),
                    r.trainSeconds() / u.trainSeconds(), r.evalNfe() / u.evalNfe(), r.heldoutNll() - u.heldoutNll()));
        }
        return out;
    }

    private void nfePlot(String data, Map<String, List<Map<String, Object>>> histories) {
        List<Charts.Series> series = new ArrayList<>();
        histories.forEach((variant, h) -> {
            double[] x = new double[h.size()], y = new double[h.size()];
            for (int i = 0; i < h.size(); i++) {
                x[i] = num(h.get(i), "iteration");
                y[i] = num(h.get(i), "nfe_forward") + backward(List.of(h.get(i)));
            }
            series.add(new Charts.Series(variant, x, y));
        });
        // the backward count is the adjoint's; backprop through the solver counts none, so the curve is then forward NFE only
        boolean adjoint = histories.values().stream().flatMap(List::stream).anyMatch(r -> backward(List.of(r)) > 0);
        Charts.line(dir.resolve("nfe-" + data + ".png"), data + (adjoint ? ": forward + adjoint backward function evaluations per "
                + "training iteration" : ": forward function evaluations per training iteration"), "iteration", adjoint ? "NFE" : "forward NFE", series);
    }

    static double num(Map<String, Object> row, String k) { return ((Number) row.get(k)).doubleValue(); }

    /** The adjoint's backward NFE over {@code rows}; rows of backprop through the solver count none (their cell is empty). */
    static double backward(List<Map<String, Object>> rows) {
        double s = 0;
        for (Map<String, Object> r : rows) if (r.get("nfe_backward") instanceof Number n) s += n.doubleValue();
        return s;
    }

    static double mean(List<Map<String, Object>> rows, String k) { return FlowRuns.sum(rows, k) / rows.size(); }
}
