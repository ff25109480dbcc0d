package dev.tikhon.pipeline;

import dev.tikhon.engine.Autograd;
import dev.tikhon.flow.Divergence;
import dev.tikhon.flow.FlowConfig;
import dev.tikhon.flow.FlowModel;
import dev.tikhon.flow.FlowPlots;
import dev.tikhon.flow.FlowTraining;
import dev.tikhon.flow.Flows;
import dev.tikhon.transport.EkFlow;
import dev.tikhon.transport.EkTraining;
import dev.tikhon.data.DataIdentity;
import dev.tikhon.data.DataSets;
import dev.tikhon.engine.Device;
import dev.tikhon.engine.Rng;
import dev.tikhon.engine.Scope;
import dev.tikhon.engine.Tensor;
import dev.tikhon.ode.SolverOptions;
import dev.tikhon.report.RunDirectory;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A flow run from start to report: train (or resume), evaluate on held-out data with the evaluation
 * solver, draw the pictures, write metrics.json and index.html. Used by {@code flow train} and by
 * {@code reproduce rnode}.
 */
public final class FlowRuns {
    /** Evaluation follows FFJORD/RNODE: Dopri5 at atol = rtol = 1e-5, whatever solver trained the model. */
    public static final SolverOptions EVALUATION_SOLVER = SolverOptions.dopri5(1e-5, 1e-5);

    private FlowRuns() {}

    /**
     * Mean NLL (in the model's unit, {@code unit}: nats or bits/dim) with its standard error, and the mean NFE per batch over
     * {@code batches} batches of up to {@code batchSize}; {@code estimate} says whether the figure is exact or an estimate, and of what.
     */
    public record Evaluation(String unit, double nll, double standardError, double nfePerBatch, int examples, int batchSize,
                             int batches, double seconds, String solver, String estimate) {
        /** The same mean under its unit's name, where the unit is bits/dim (absent otherwise). */
        @com.fasterxml.jackson.annotation.JsonProperty("bits_per_dim")
        @com.fasterxml.jackson.annotation.JsonInclude(com.fasterxml.jackson.annotation.JsonInclude.Include.NON_NULL)
        public Double bitsPerDim() {
            return FlowModel.Unit.BITS_PER_DIM.label.equals(unit) ? nll : null;
        }

        /** The evaluation's NFE as it was spent: "20.0 NFE for its one batch of 300", "mean 21.5 NFE per batch (3 batches of up to 200)". */
        public String nfeText() {
            return batches == 1 ? String.format(java.util.Locale.ROOT, "%.1f NFE for its one batch of %d", nfePerBatch, examples)
                    : String.format(java.util.Locale.ROOT, "mean %.1f NFE per batch (%d batches of up to %d)", nfePerBatch, batches, batchSize);
        }
    }

    /** The batch flow train evaluates its held-out set with (and flow eval by default): 1000 points of a toy set, 200 images. */
    public static int evaluationBatch(String data) {
        return Flows.isToy(data) ? 1000 : IMAGE_EVAL_BATCH;
    }

    /** A note when more held-out images are asked for than the test set has (all of them are then used). */
    public static void noteHeldOutCap(int asked, int available) {
        if (asked > available) {
            System.err.println("note:   --held-out " + asked + " is more than the " + available + " test images: all " + available + " are used");
        }
    }

    public static Evaluation evaluate(FlowModel model, Tensor data, SolverOptions solver, int batchSize) {
        long t0 = System.nanoTime();
        int n = (int) data.size(0);
        double sum = 0, sumSq = 0, nfe = 0;
        int batches = 0;
        for (int start = 0; start < n; start += batchSize) {
            int m = Math.min(batchSize, n - start);
            try (Scope s = Scope.open(); Autograd.Guard g = Autograd.noGrad()) {
                Tensor x = data.narrow(0, start, m).to(model.module().device());
                FlowModel.Stats st = model.evaluate(x, solver);
                for (double v : st.nll().toDoubleArray()) {
                    sum += v;
                    sumSq += v * v;
                }
                nfe += st.nfe();
                batches++;
            }
        }
        double mean = sum / n, var = Math.max(0, sumSq / n - mean * mean);
        return new Evaluation(model.unit().label, mean, Math.sqrt(var / Math.max(1, n - 1)), nfe / batches, n, batchSize, batches,
                (System.nanoTime() - t0) / 1e9, solver.describe(), model.estimate());
    }

    /** What a finished run reports. */
    public record Trained(FlowModel model, FlowTraining.Outcome outcome, Evaluation heldOut, Map<String, Object> metrics) {
        /** A number of metrics.json (e.g. {@code final_dual}, {@code nfe_forward_last_10pct}); NaN when it has none. */
        public double metric(String key) {
            return metrics.get(key) instanceof Number n ? n.doubleValue() : Double.NaN;
        }
    }

    /**
     * Trains the flow {@code config} describes into {@code outDir} (continuing its checkpoint when
     * {@code resume}: the stored settings win, except that more iterations extend the run), then
     * evaluates it on {@code heldOut} held-out examples and writes the report.
     */
    public static Trained train(FlowConfig config, Device device, Path outDir, boolean resume, int heldOut,
                                FlowTraining.Listener listener) {
        return train(config, device, outDir, resume, heldOut, null, listener);
    }

    /** Images per evaluation batch, and sampled for samples.png, for image flows. */
    public static final int IMAGE_EVAL_BATCH = 200, IMAGE_SAMPLES = 50;

    /**
     * As {@link #train(FlowConfig, Device, Path, boolean, int, FlowTraining.Listener)}; image sets are
     * looked for in {@code dataDir} (null: the usual places, see {@link dev.tikhon.data.DataSets}).
     * Images train on epochs of seeded permutations of the training set and are evaluated on the
     * first {@code heldOut} test images, with the evaluation noise (dequantization, Hutchinson) seeded
     * from the run's seed.
     */
    public static Trained train(FlowConfig config, Device device, Path outDir, boolean resume, int heldOut, Path dataDir,
                                FlowTraining.Listener listener) {
        return train(config, device, outDir, resume, heldOut, dataDir, DENSITY_GRID, listener);
    }

    /** Cells per side of a toy run's density.png (each cell one model evaluation). */
    public static final int DENSITY_GRID = 100;

    /**
     * Trains {@code config} in {@code dir} exactly as {@link #train} would (the same seeded model and batches), with neither
     * evaluation nor report: a warm-up before timed runs.
     */
    public static void trainOnly(FlowConfig config, Device device, Path dir, Path dataDir, FlowTraining.Listener listener) {
        FlowModel model = seededModel(config, device);
        DataSets.Loaded data = Flows.isToy(config.data()) ? null : Flows.loadImages(config.data(), dataDir);
        run(model, config, trainingBatches(config, data, device), dir, false, listener);
    }

    /** The model {@code config} starts from: the same initial weights for the same seed, on {@code device}. */
    private static FlowModel seededModel(FlowConfig config, Device device) {
        dev.tikhon.engine.Rng.seed(dev.tikhon.engine.Rng.derive(config.training().seed(), 0));
        FlowModel model = build(config, Flows.exampleShape(config.data()));
        model.module().to(device);
        return model;
    }

    /** The training batches, each moved to {@code device}: a toy set generated, or {@code images}' training split. */
    private static FlowTraining.Batches trainingBatches(FlowConfig config, DataSets.Loaded images, Device device) {
        FlowTraining.Batches batches = images == null
                ? Flows.toyBatches(config.data(), config.training().batchSize(), config.training().seed())
                : Flows.imageBatches(images.train(), config.training().batchSize(), config.training().seed());
        return it -> batches.batch(it).to(device);
    }

    private static FlowTraining.Outcome run(FlowModel model, FlowConfig config, FlowTraining.Batches batches, Path dir, boolean resume,
                                            FlowTraining.Listener listener) {
        return config.methodIsEk() ? EkTraining.run((EkFlow) model, config, batches, dir, resume, listener)
                : FlowTraining.run(model, config, batches, dir, resume, listener);
    }

    /**
     * As {@link #train(FlowConfig, Device, Path, boolean, int, Path, FlowTraining.Listener)} with a density.png of
     * {@code grid} × {@code grid} cells for toy sets (each cell costs one held-out point's evaluation).
     */
    public static Trained train(FlowConfig config, Device device, Path outDir, boolean resume, int heldOut, Path dataDir, int grid,
                                FlowTraining.Listener listener) {
        if (grid < 2) throw new dev.tikhon.UserError("the density grid needs at least 2 cells per side, got " + grid);
        RunDirectory run = RunDirectory.create(outDir);
        Path ckpt = run.path().resolve(FlowTraining.CHECKPOINT);
        if (resume && Files.exists(ckpt)) {
            FlowConfig stored = FlowTraining.load(ckpt).meta().config();
            config = withIterations(stored, Math.max(stored.training().iterations(), config.training().iterations()));
        }
        FlowModel model = seededModel(config, device);
        boolean toy = Flows.isToy(config.data());
        DataSets.Loaded data = toy ? null : Flows.loadImages(config.data(), dataDir);
        Tensor test = null;
        String dataDescription = null;
        DataIdentity identity = null;
        if (!toy) {
            // the training curve's data: the training split (its size, its first images)
            identity = DataIdentity.of(config.data(), "train", data.train(), data.train().size(), config.training().seed());
            noteHeldOutCap(heldOut, data.test().size());
            test = Flows.imageHeldOut(data.test(), heldOut).keep();
            dataDescription = data.description();
        }
        FlowTraining.Outcome outcome = run(model, config, trainingBatches(config, data, device), run.path(), resume, listener);
        Evaluation eval;
        List<String> images;
        if (toy) {
            test = Flows.toyHeldOut(config.data(), heldOut, config.training().seed()).keep();
            identity = DataIdentity.ofPoints(config.data(), "held-out", test, heldOut, config.training().seed());
            eval = evaluate(model, test, EVALUATION_SOLVER, evaluationBatch(config.data()));
            images = new ArrayList<>(FlowPlots.toy(run.path(), config.data() + " — " + (config.methodIsEk() ? "EK flow" : "CNF"), model, test.to(device), EVALUATION_SOLVER, grid));
        } else {
            Rng.seed(Rng.derive(config.training().seed(), 4));
            eval = evaluate(model, test, EVALUATION_SOLVER, IMAGE_EVAL_BATCH);
            images = new ArrayList<>(FlowPlots.images(run.path(), model, test, EVALUATION_SOLVER, IMAGE_SAMPLES));
        }
        images.addAll(config.methodIsEk() ? EkTraining.historyPlot(run.path(), outcome.history())
                : FlowPlots.history(run.path(), outcome.history(), model.unit().label));
        Map<String, Object> metrics = metrics(config, model, outcome, eval, device);
        if (dataDescription != null) metrics.put("data", dataDescription);
        metrics.put("data_set", identity.toMap());
        run.writeMetrics(metrics);
        dev.tikhon.report.HtmlReport.write(run.path(), "Tikhon flow: " + config.data(), config.describe(), metrics, images);
        return new Trained(model, outcome, eval, metrics);
    }

    /**
     * Refuses to continue or reuse the flow checkpoint in {@code dir}, if there is one, unless it was trained with
     * {@code asked}'s settings, naming each difference: {@code reproduce}'s experiments label their results with the
     * settings asked for (a rerun of {@code reproduce rnode --lambda 0.5} into a folder trained at λ 0.01 had reported the
     * old flows as λ 0.5). More iterations asked extend the run, as one longer run would have gone (Adam at a constant rate
     * on batches drawn by iteration); how often it checkpoints, and a solver setting its solver does not read, may differ.
     */
    public static void requireSameSettings(FlowConfig asked, Path dir) {
        Path ckpt = dir.resolve(FlowTraining.CHECKPOINT);
        if (!Files.exists(ckpt)) return;
        FlowConfig stored = FlowTraining.load(ckpt).meta().config();
        java.util.Set<String> ignored = new java.util.HashSet<>(java.util.Set.of("checkpointEvery"));
        if (asked.training().iterations() >= stored.training().iterations()) ignored.add("iterations");
        if (stored.ode().solver().name().equals(asked.ode().solver().name())) {
            if (stored.ode().solver().options().method().adaptive()) ignored.add("step");
            else ignored.addAll(List.of("atol", "rtol"));
        }
        List<String> diff = dev.tikhon.report.SettingsDiff.of(stored, asked, ignored);
        dev.tikhon.report.SettingsDiff.requireNone(diff, dir, "a flow trained");
    }

    static FlowConfig withIterations(FlowConfig c, int iterations) {
        return c.withIterations(iterations);
    }

    /**
     * The model a configuration describes: an EK flow ({@code --method ek}, package transport) or a CNF
     * (package flow). Assembly sits here, above both packages, so that neither imports the other's runs.
     */
    public static FlowModel build(FlowConfig c, long[] exampleShape) {
        return c.methodIsEk() ? EkFlow.build(c, (int) exampleShape[0]) : Flows.build(c, exampleShape);
    }

    static Map<String, Object> metrics(FlowConfig config, FlowModel model, FlowTraining.Outcome o, Evaluation eval, Device device) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("command", "flow train");
        m.put("tikhon_version", dev.tikhon.Version.VERSION);
        m.put("device", device.toString());
        m.put("config", config.applicable());
        m.put("model", model.module().describe());
        m.put("parameters", model.module().parameterCount());
        m.put("held_out", eval);
        List<Map<String, Object>> h = o.history();
        m.put("iterations", h.size());
        m.put("train_seconds", o.seconds());
        m.put("seconds_per_iteration", h.isEmpty() ? Double.NaN : o.seconds() / h.size());
        if (config.methodIsEk()) {
            m.put("final_dual", h.isEmpty() ? Double.NaN : ((Number) h.get(h.size() - 1).get("dual")).doubleValue());
            m.put("final_penalty", h.isEmpty() ? Double.NaN : ((Number) h.get(h.size() - 1).get("penalty")).doubleValue());
            m.put("final_mass", h.isEmpty() ? Double.NaN : ((Number) h.get(h.size() - 1).get("mass")).doubleValue());
            return m;
        }
        m.put("nfe_forward_total", sum(h, "nfe_forward"));
        if (config.gradientMode() == dev.tikhon.flow.ContinuousFlow.Gradient.ADJOINT) {
            m.put("nfe_backward_total", sum(h, "nfe_backward"));
        } else {
            m.put("nfe_backward", "not counted: backprop through the solver's steps (its cost is that of the forward pass's graph)");
        }
        int tail = Math.max(1, h.size() / 10);
        m.put("nfe_forward_last_10pct", h.isEmpty() ? Double.NaN : sum(h.subList(h.size() - tail, h.size()), "nfe_forward") / tail);
        m.put("nfe_forward_last_10pct_kind", "mean forward NFE per iteration over the last 10% of iterations"
                + (Flows.isToy(config.data()) ? "" : ", summed over the blocks"));
        String column = FlowTraining.nllColumn(model.unit());
        m.put("final_train_" + column, h.isEmpty() ? Double.NaN : ((Number) h.get(h.size() - 1).get(column)).doubleValue());
        m.put("final_train_kind", "the last training batch's mean, with the training solver and divergence (config), not the evaluation's");
        return m;
    }

    /** The sum of a numeric column over history rows. */
    public static double sum(List<Map<String, Object>> rows, String key) {
        double s = 0;
        for (Map<String, Object> r : rows) s += ((Number) r.get(key)).doubleValue();
        return s;
    }

    /** The model of a finished or interrupted flow run, with its configuration. */
    public record Restored(FlowModel model, FlowConfig config, FlowTraining.Meta meta) {}

    public static Restored load(Path runDirOrFile, Device device) {
        FlowTraining.Loaded l = FlowTraining.load(runDirOrFile);
        FlowConfig c = l.meta().config();
        FlowModel model = build(c, Flows.exampleShape(c.data()));
        model.module().loadStateDict(l.model());
        model.module().to(device);
        return new Restored(model, c, l.meta());
    }
}
