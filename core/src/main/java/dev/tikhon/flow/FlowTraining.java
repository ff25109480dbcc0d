package dev.tikhon.flow;

import dev.tikhon.engine.Rng;
import dev.tikhon.engine.Scope;
import dev.tikhon.engine.Tensor;
import dev.tikhon.optim.Adam;
import dev.tikhon.optim.Optimizer;
import dev.tikhon.report.CsvWriter;
import dev.tikhon.train.Checkpoint;
import dev.tikhon.train.TrainingDivergedException;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Maximum-likelihood training of a {@link FlowModel} by Adam, one batch per iteration. Every
 * iteration runs in its own {@link Scope}, reseeds libtorch from (seed, iteration) and asks the
 * {@link Batches} for its batch by index, so a run resumed from its checkpoint draws exactly what
 * an uninterrupted one would. The history records, per iteration, the loss, the NLL, both
 * regularizers, forward and backward function evaluations and the wall time.
 */
public final class FlowTraining {
    public static final String CHECKPOINT = "flow-checkpoint.tkn";
    public static final String FORMAT = "tikhon-flow-checkpoint";
    public static final int VERSION = 1;

    /** The training batch of an iteration: a pure function of the index. */
    @FunctionalInterface
    public interface Batches {
        Tensor batch(int iteration);
    }

    /** Hears about progress; the CLI shows a bar with the NFE. */
    public interface Listener {
        default void onStart(int fromIteration, int iterations) {}

        default void onIteration(Map<String, Object> row) {}

        default void onEnd() {}
    }

    /** What a checkpoint holds besides the tensors. */
    public record Meta(FlowConfig config, String unit, int iteration, double seconds, List<Map<String, Object>> history,
                       String tikhonVersion) {}

    /** A finished (or stopped) run. */
    public record Outcome(FlowConfig config, List<Map<String, Object>> history, double seconds) {}

    private FlowTraining() {}

    public static Outcome run(FlowModel model, FlowConfig config, Batches batches, Path outDir, boolean resume, Listener listener) {
        Optimizer opt = new Adam(model.module().parameters(), config.training().lr(), 0.9, 0.999, 1e-8, config.training().weightDecay(), false, false);
        var solver = config.trainingSolver();
        var gradient = config.gradientMode();
        String column = nllColumn(model.unit());
        return loop(model.module(), model.unit().name(), OptimizerState.of(opt), config, batches, outDir, resume, listener, header(model.unit()),
                (it, x) -> {
                    opt.zeroGrad();
                    FlowModel.Step s = model.trainStep(x, solver, gradient, config.regularizers());
                    double loss = s.loss().item();
                    if (!Double.isFinite(loss)) {
                        throw TrainingDivergedException.atIteration(it, loss, "lower --lr, use the regularizers (--reg-kinetic, "
                                + "--reg-jacobian) or a smaller --step");
                    }
                    opt.step();
                    Map<String, Object> row = new LinkedHashMap<>();
                    row.put("loss", loss);
                    row.put(column, s.stats().nll().mean().item());
                    for (FlowRegularizer r : FlowRegularizer.ALL) row.put(r.name(), s.stats().term(r).mean().item());
                    row.put("nfe_forward", s.stats().nfe());
                    // backprop through the solver's steps has no adjoint solve to count: the cell is left empty, not a 0
                    // that reads as "no backward evaluations" (its backward pass runs a vector-Jacobian product per stage)
                    if (gradient == ContinuousFlow.Gradient.ADJOINT) row.put("nfe_backward", s.stats().backwardNfe());
                    return row;
                });
    }

    /** The work of one iteration on its batch: the optimizer step(s), and the history columns it reports. */
    @FunctionalInterface
    public interface IterationStep {
        Map<String, Object> run(int iteration, Tensor batch);
    }

    /** The optimizer state a checkpoint saves and a resumed run restores, as named tensors. */
    public interface OptimizerState {
        Map<String, Tensor> state();

        void load(Map<String, Tensor> saved);

        static OptimizerState of(Optimizer opt) {
            return new OptimizerState() {
                @Override public Map<String, Tensor> state() { return opt.state(); }

                @Override public void load(Map<String, Tensor> saved) { opt.loadState(saved); }
            };
        }
    }

    /**
     * The training loop every flow shares: resume from the checkpoint (model, optimizer state,
     * iteration, time, history), then for each iteration reseed from (seed, iteration), fetch the batch
     * by index, run {@code step} in its own {@link Scope}, record the row (iteration, the step's
     * columns, iteration time, total time) in history.csv and to the listener, and checkpoint
     * atomically every {@code checkpointEvery} iterations and at the end.
     */
    public static Outcome loop(dev.tikhon.nn.Module module, String unit, OptimizerState opt, FlowConfig config, Batches batches,
                               Path outDir, boolean resume, Listener listener, List<String> header, IterationStep step) {
        Path checkpoint = outDir.resolve(CHECKPOINT);
        int start = 0;
        double seconds = 0;
        List<Map<String, Object>> history = new ArrayList<>();
        dev.tikhon.io.AtomicFiles.cleanStale(outDir);   // e.g. a checkpoint's .tmp from a killed run
        if (resume && Files.exists(checkpoint)) {
            Loaded l = load(checkpoint);
            module.loadStateDict(l.model());
            opt.load(l.optimizer());
            start = l.meta().iteration();
            seconds = l.meta().seconds();
            for (Map<String, Object> row : l.meta().history()) {
                // runs written before the column was named by its unit called bits/dim "nll"
                if (header.contains(BITS_PER_DIM) && row.containsKey("nll") && !row.containsKey(BITS_PER_DIM)) {
                    Map<String, Object> renamed = new LinkedHashMap<>();
                    row.forEach((k, v) -> renamed.put(k.equals("nll") ? BITS_PER_DIM : k, v));
                    row = renamed;
                }
                history.add(row);
            }
        }
        listener.onStart(start, config.training().iterations());
        long startNanos = System.nanoTime();
        double secondsBefore = seconds;
        // SIGTERM or Ctrl-C stops the loop between two iterations, after a checkpoint of the one it reached
        try (CsvWriter csv = openHistory(outDir, header, history); Scope.StopPoints stops = Scope.stopPoints()) {
            int saved = start;
            for (int it = start; it < config.training().iterations(); it++) {
                if (it > saved) {
                    int at = it;
                    double kept = seconds;
                    Scope.stopHere(() -> save(checkpoint, config, unit, at, kept, history, module, opt));
                }
                long t0 = System.nanoTime();
                Map<String, Object> row = new LinkedHashMap<>();
                row.put("iteration", it + 1);
                try (Scope scope = Scope.open()) {
                    Rng.seed(Rng.derive(config.training().seed(), 1, it));
                    row.putAll(step.run(it, batches.batch(it)));
                } catch (TrainingDivergedException e) {
                    // where the run stands: its last checkpoint, if any (--resume would repeat the same steps and diverge again)
                    throw e.iterations && e.dir == null ? e.keptIn(outDir, saved) : e;
                }
                seconds = secondsBefore + (System.nanoTime() - startNanos) / 1e9;
                row.put("iteration_seconds", (System.nanoTime() - t0) / 1e9);
                row.put("seconds", seconds);
                history.add(row);
                csv.writeRow(row);
                listener.onIteration(row);
                boolean last = it + 1 == config.training().iterations();
                if (last || (config.training().checkpointEvery() > 0 && (it + 1) % config.training().checkpointEvery() == 0)) {
                    save(checkpoint, config, unit, it + 1, seconds, history, module, opt);
                    saved = it + 1;
                }
            }
        } finally {
            listener.onEnd();
        }
        return new Outcome(config, history, seconds);
    }

    private static void save(Path checkpoint, FlowConfig config, String unit, int iteration, double seconds, List<Map<String, Object>> history,
                             dev.tikhon.nn.Module module, OptimizerState opt) {
        try {
            Checkpoint.saveArchive(checkpoint, FORMAT, VERSION, new Meta(config, unit, iteration, seconds, history, dev.tikhon.Version.VERSION),
                    module.stateDict(), opt.state());
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write checkpoint " + checkpoint, e);
        }
    }

    /**
     * Creates the run directory and starts {@code history.csv} afresh from the checkpoint's history:
     * rows written after the last checkpoint (by a killed run) are dropped, since the checkpoint is
     * the truth a resumed run continues from.
     */
    public static CsvWriter openHistory(Path outDir, List<String> header, List<Map<String, Object>> history) {
        Path historyCsv = outDir.resolve("history.csv");
        try {
            Files.createDirectories(outDir);
            Files.deleteIfExists(historyCsv);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot prepare " + historyCsv, e);
        }
        CsvWriter csv = CsvWriter.open(historyCsv, header);
        for (Map<String, Object> row : history) csv.writeRow(row);
        return csv;
    }

    /** The history column (and metrics key suffix) of the per-example objective: nll (nats) or bits_per_dim (image flows). */
    public static final String BITS_PER_DIM = "bits_per_dim";

    public static String nllColumn(FlowModel.Unit unit) {
        return unit == FlowModel.Unit.BITS_PER_DIM ? BITS_PER_DIM : "nll";
    }

    /** history.csv's columns for a model measured in {@code unit}. */
    static List<String> header(FlowModel.Unit unit) {
        return java.util.stream.Stream.of(List.of("iteration", "loss", nllColumn(unit)), FlowRegularizer.names(),
                List.of("nfe_forward", "nfe_backward", "iteration_seconds", "seconds")).flatMap(List::stream).toList();
    }

    static final List<String> HEADER = header(FlowModel.Unit.NATS);

    /** A flow checkpoint read back. */
    public record Loaded(Meta meta, Map<String, Tensor> model, Map<String, Tensor> optimizer) {}

    /** Reads {@code flow-checkpoint.tkn} (or the file given). */
    public static Loaded load(Path fileOrRunDir) {
        Checkpoint.Archive a = Checkpoint.loadArchive(fileOrRunDir, CHECKPOINT, FORMAT, VERSION);
        try {
            return new Loaded(dev.tikhon.report.Json.mapper().treeToValue(a.meta(), Meta.class), a.model(), a.optimizer());
        } catch (IOException e) {
            throw new dev.tikhon.UserError(a.file() + ": cannot read the flow checkpoint's metadata: " + e.getMessage(), e);
        }
    }
}
