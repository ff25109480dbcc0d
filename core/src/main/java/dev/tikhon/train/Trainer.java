package dev.tikhon.train;

import dev.tikhon.Version;
import dev.tikhon.attack.InputDomain;
import dev.tikhon.data.DataLoader;
import dev.tikhon.data.Dataset;
import dev.tikhon.engine.Device;
import dev.tikhon.engine.Rng;
import dev.tikhon.engine.Scope;
import dev.tikhon.models.ModelSpec;
import dev.tikhon.models.Models;
import dev.tikhon.nn.Module;
import dev.tikhon.optim.Adam;
import dev.tikhon.optim.LrSchedule;
import dev.tikhon.optim.Optimizer;
import dev.tikhon.optim.Sgd;
import dev.tikhon.report.Charts;
import dev.tikhon.report.Csv;
import dev.tikhon.report.Json;
import dev.tikhon.report.SettingsDiff;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * The training loop: epochs of seeded mini-batches, one {@link Scope} per step, evaluation after
 * each epoch, an atomic checkpoint after each epoch (and every {@code checkpointEvery} steps), and
 * exact resumption. Randomness is derived from (seed, epoch, batch), so a run killed at any point
 * and resumed produces the same numbers as one that was never interrupted (on CPU, one thread).
 */
public final class Trainer {

    /** Hooks for progress display; all optional. */
    public interface Listener {
        default void onEpochStart(int epoch, int epochs, int startBatch, int numBatches) {}

        default void onStep(int epoch, int batch, double loss, double accuracy, double lr) {}

        default void onEpochEnd(Map<String, Object> row) {}

        /**
         * Called just before a checkpoint of position (epoch, batch) is written, after every step before it was
         * reported: a listener that keeps files of its own (per-step logs) writes them here, so that whatever a
         * killed run leaves on disk is never behind the checkpoint it resumes from.
         */
        default void beforeCheckpoint(int epoch, int batch) {}
    }

    /**
     * A finished run.
     *
     * @param steps the steps run by this call (fewer than the run's total when it resumed)
     */
    public record Outcome(Module model, List<Map<String, Object>> history, Evaluator.Result test, double trainSeconds,
                          long steps, boolean resumed) {
        /** Training throughput over the whole run, resumed parts included. */
        public double stepsPerSecond() {
            long total = 0;
            for (Map<String, Object> row : history) total += ((Number) row.get("steps")).longValue();
            return total / Math.max(trainSeconds, 1e-9);
        }
    }

    private final ModelSpec spec;
    private final Objective objective;

    /**
     * A finite loss above this is runaway. Every Tikhon objective is a cross-entropy (mixed with penalties) whose value at
     * chance is log K (2.3 for 10 classes); a mean above 1e10 means logit differences of that size, where a float32 loss has
     * an ulp of 1,024 nats: no change of the classification shows in it any more. Legitimate large losses are far below:
     * IBP's robust cross-entropy of a fresh batch-norm resnet at ε 0.03 from its first step was 3.2e4, and 31 ten steps
     * later (BatchNormCertifiedTrainingTest's setting); a GloRo resnet with batch norm that blew up sat at 2.8e18 (audit 20a).
     */
    static final double RUNAWAY_LOSS = 1e10;

    /**
     * Steps in a row above {@link #RUNAWAY_LOSS} that end a run as diverged (exit 3): a single spike that training
     * recovers from is not divergence; a loss that stays there is (a step below the limit starts the count again).
     */
    static final int RUNAWAY_STEPS = 20;
    private final Dataset train, val, test;
    private final DataInfo data;
    private final Device device;
    private final Path outDir;
    private final Listener listener;
    private TrainConfig config;
    /** Where training starts when not from a fresh initialization (warm starts, TorchScript models). */
    private java.util.function.Supplier<Module> start;
    /** {@link #onlySameSettings}: a checkpoint trained with other settings is refused, not continued with its own. */
    private boolean sameSettingsOnly;
    /** The position (epochs done, batch) of the checkpoint in outDir, restored or written by this run; null: none yet. */
    private int[] kept;
    /** The test evaluation after the last epoch run, reused as the final result. */
    private Evaluator.Result lastTest;

    /**
     * Prefer {@link #builder}, which names each argument.
     *
     * @param objective what is minimized; it is the one source of what the checkpoint records: a Tikhon objective
     *                  ({@link Objective#spec()} not null) replaces a config left at the plain default, and must
     *                  agree with a config that names another
     * @param val       validation set, or null
     * @param test      test set evaluated after every epoch, or null
     * @param outDir    run directory for checkpoints, history and plots, or null for none
     * @throws IllegalArgumentException when the objective and {@code config.objective()} disagree
     */
    public Trainer(ModelSpec spec, Objective objective, TrainConfig config, Dataset train, Dataset val, Dataset test,
                   DataInfo data, Device device, Path outDir, Listener listener) {
        this.spec = spec;
        this.objective = java.util.Objects.requireNonNull(objective, "objective");
        this.config = recorded(objective, config);
        this.train = train;
        this.val = val;
        this.test = test;
        this.data = data;
        this.device = device;
        this.outDir = outDir;
        this.listener = listener == null ? new Listener() {} : listener;
    }

    /**
     * One source for what was trained: the config the checkpoint records names the objective that trains. A
     * Tikhon objective's own spec fills a config left at the plain default (a noise-trained run from Java was
     * recorded as plain, and certify refused it) and must agree with a config that names something else. An
     * objective of the caller's own (no spec) is the caller's to keep in step; the checkpoint has its description.
     */
    private static TrainConfig recorded(Objective objective, TrainConfig config) {
        ObjectiveSpec own = objective.spec();
        if (own == null || own.sameAs(config.objective())) return config;
        if (config.objective().sameAs(ObjectiveSpec.plain())) return config.withObjective(own);
        throw new IllegalArgumentException("the objective given to the Trainer (" + objective.describe() + ", " + own
                + ") is not the one its TrainConfig names (" + config.objective() + "), which is what the checkpoint records and "
                + "certify reads: give one of the two, or make them agree");
    }

    /** Names each part of a run; {@link #build} checks that the objective agrees with the config's. */
    public static Builder builder(ModelSpec spec, TrainConfig config) { return new Builder(spec, config); }

    public static final class Builder {
        private final ModelSpec spec;
        private final TrainConfig config;
        private Objective objective;
        private Dataset train, validation, test;
        private DataInfo data;
        private Device device = Device.CPU;
        private Path out;
        private Listener listener;

        private Builder(ModelSpec spec, TrainConfig config) {
            this.spec = spec;
            this.config = config;
        }

        /**
         * What is minimized. By default plain {@code config.objective()}'s loss; a regularizer the config names is
         * given here ({@code Regularizers.build(config.objective())}) or as its objective (then the config may stay plain).
         */
        public Builder objective(Objective o) { this.objective = o; return this; }

        public Builder train(Dataset d) { this.train = d; return this; }

        /** Evaluated after every epoch (none by default). */
        public Builder validation(Dataset d) { this.validation = d; return this; }

        /** Evaluated after every epoch (none by default). */
        public Builder test(Dataset d) { this.test = d; return this; }

        /** What the checkpoint says about the data; by default the training set's name. */
        public Builder data(DataInfo d) { this.data = d; return this; }

        public Builder device(Device d) { this.device = d; return this; }

        /** The run directory (checkpoints, history, plots); none by default. */
        public Builder out(Path dir) { this.out = dir; return this; }

        public Builder listener(Listener l) { this.listener = l; return this; }

        public Trainer build() {
            if (train == null) throw new IllegalArgumentException("Trainer.builder(...).train(data) is needed");
            DataInfo info = data != null ? data : new DataInfo(train.name(), null, train.name());
            Objective o = objective;
            if (o == null) {
                if (!config.objective().reg().equals("none")) {
                    throw new IllegalArgumentException("TrainConfig names the regularizer '" + config.objective().reg()
                            + "': give Trainer.builder(...).objective(Regularizers.build(config.objective()))");
                }
                o = Objective.of(dev.tikhon.loss.Losses.parse(config.objective().loss()));
            }
            return new Trainer(spec, o, config, train, validation, test, info, device, out, listener);
        }
    }

    /** The model a run with this spec and seed starts from (deterministic in the seed). */
    public static Module initialModel(ModelSpec spec, long seed) {
        return initialModel(seed, () -> Models.build(spec));
    }

    /** The model {@code build} makes, with the random state a run of this seed builds its model in (what {@link #startFrom} may give). */
    public static Module initialModel(long seed, java.util.function.Supplier<Module> build) {
        Rng.seed(Rng.derive(seed, 0x1417));
        return build.get();
    }

    private static final List<String> OPTIMIZERS = List.of("sgd", "adam", "adamw");

    /** Refuses an unknown optimizer or schedule name, before any work is done. */
    public static void checkNames(TrainConfig c) {
        if (!OPTIMIZERS.contains(c.optimizer().toLowerCase(Locale.ROOT))) throw unknownOptimizer(c);
        schedule(c);
    }

    private static IllegalArgumentException unknownOptimizer(TrainConfig c) {
        return new IllegalArgumentException("unknown --optimizer '" + c.optimizer() + "': use sgd, adam or adamw");
    }

    public static Optimizer optimizer(TrainConfig c, Module model) {
        switch (c.optimizer().toLowerCase(Locale.ROOT)) {
            case "sgd": return new Sgd(model.parameters(), c.lr(), c.momentum(), c.nesterov(), c.weightDecay(), c.decayAll());
            case "adam": return new Adam(model.parameters(), c.lr(), 0.9, 0.999, 1e-8, c.weightDecay(), false, c.decayAll());
            case "adamw": return new Adam(model.parameters(), c.lr(), 0.9, 0.999, 1e-8, c.weightDecay(), true, c.decayAll());
            default: throw unknownOptimizer(c);
        }
    }

    public static LrSchedule schedule(TrainConfig c) {
        return LrSchedule.parse(c.schedule(), c.lr(), c.epochs(), c.milestoneArray(), c.gamma(), c.warmupEpochs());
    }

    public TrainConfig config() { return config; }

    /**
     * Starts training from the supplied model (trained in place) instead of a fresh
     * {@link #initialModel}: fine-tuning, heat smoothing's warm start, a TorchScript model. The
     * spec still names the model in the checkpoint; a resumed run loads its saved state into it.
     */
    public Trainer startFrom(java.util.function.Supplier<Module> model) {
        this.start = model;
        return this;
    }

    /**
     * Continues (or reuses, when finished) the checkpoint in the run directory only when it was trained with exactly this
     * trainer's settings and data (the epochs included; how often it checkpoints and the evaluation batch aside), and refuses
     * one trained with others, naming each difference. Without it the checkpoint's settings win, which is right for a
     * {@code train --resume} but not for an experiment whose results are labelled with the settings it was asked for: a
     * rerun of {@code reproduce tikhonov --lr 0.1} into a folder trained at lr 0.05 had reported the old models as the new.
     */
    public Trainer onlySameSettings() {
        this.sameSettingsOnly = true;
        return this;
    }

    /**
     * Trains to the configured number of epochs.
     *
     * @param resume continue from {@code outDir/checkpoint.tkn} when it exists; its model and
     *               configuration win over this trainer's, except for a larger number of epochs
     */
    public Outcome run(boolean resume) {
        // adversarial and certified training keep their points in the data's own domain ([0, 1] for images)
        return InputDomain.within(InputDomain.of(train.isImages()), () -> runInDomain(resume));
    }

    private Outcome runInDomain(boolean resume) {
        if (outDir != null) {
            try {
                Files.createDirectories(outDir);
            } catch (IOException e) {
                throw new dev.tikhon.UserError("cannot create the run directory " + outDir + ": " + e.getMessage(), e);
            }
            dev.tikhon.io.AtomicFiles.cleanStale(outDir);   // e.g. a checkpoint.tkn.tmp from a killed run
        }
        Checkpoint.Loaded restored = null;
        if (resume && outDir != null && Files.exists(outDir.resolve(Checkpoint.FILE_NAME))) {
            restored = Checkpoint.load(outDir.resolve(Checkpoint.FILE_NAME));
            checkCompatible(restored.meta());
            if (sameSettingsOnly) requireSameSettings(restored.meta());
            config = restored.meta().config().withEpochs(Math.max(config.epochs(), restored.meta().config().epochs()));
        }
        Module model = start != null ? start.get() : initialModel(spec, config.seed());
        objective.check(model);   // e.g. a layer certified training cannot bound, before a warm-up epoch that never bounds
        model.to(device);
        Optimizer opt = optimizer(config, model);
        LrSchedule schedule = schedule(config);
        TrainStep step = new TrainStep(model, objective, opt);

        int epoch = 0, startBatch = 0;
        List<Map<String, Object>> history = new ArrayList<>();
        Map<String, Double> partial = new LinkedHashMap<>();
        if (restored != null) {
            model.loadStateDict(restored.model());
            opt.loadState(restored.optimizer());
            epoch = restored.meta().epoch();
            startBatch = restored.meta().batch();
            kept = new int[]{epoch, startBatch};
            history.addAll(restored.meta().history());
            partial.putAll(restored.meta().partial());
            for (String p : objective.retiredParts()) {
                partial.remove("part_mean:" + p);
                partial.remove("part:" + p);
            }
            // a kill between the checkpoint and the history files leaves them one epoch behind; the checkpoint is the truth
            if (!history.isEmpty()) writeHistory(history);
        }

        int runaway = 0;   // consecutive steps with a finite loss above RUNAWAY_LOSS
        DataLoader loader = new DataLoader(train, config.batchSize(), true, config.seed(), device).augmented(config.augmentation());
        int numBatches = loader.numBatches();
        long steps = 0;
        double trainSeconds = 0;
        for (Map<String, Object> row : history) trainSeconds += ((Number) row.get("seconds")).doubleValue();
        // SIGTERM or Ctrl-C stops the loop between two steps, after a checkpoint of the step it reached (Scope.stopHere)
        try (Scope.StopPoints stops = Scope.stopPoints()) {
            for (; epoch < config.epochs(); epoch++, startBatch = 0) {
                EpochSums sums = EpochSums.from(startBatch == 0 ? Map.of() : partial);
                listener.onEpochStart(epoch, config.epochs(), startBatch, numBatches);
                model.train(true);
                Iterator<DataLoader.Batch> it = loader.iterator(epoch, startBatch);
                int first = startBatch, ep = epoch;
                for (int b = startBatch; it.hasNext(); b++) {
                    int at = b;   // at the epoch's first batch the checkpoint on disk already holds this state
                    Scope.stopHere(() -> {
                        if (at > first) saveCheckpoint(model, opt, ep, at, sums.toMap(), history);
                    });
                    long t0 = System.nanoTime();
                    double lr = schedule.at(epoch + (double) b / numBatches);
                    opt.setLr(lr);
                    objective.progress(epoch + (double) b / numBatches);
                    TrainStep.Result r;
                    try (Scope s = Scope.open()) {
                        Rng.seed(Rng.derive(config.seed(), epoch, b));
                        DataLoader.Batch batch = it.next();
                        r = step.run(batch.x(), batch.y());
                        runaway = !Double.isFinite(r.loss()) ? 0 : r.loss() > RUNAWAY_LOSS ? runaway + 1 : 0;
                        if (!Double.isFinite(r.loss()) || runaway >= RUNAWAY_STEPS) {
                            throw new TrainingDivergedException(epoch, b, r.loss(), outDir, kept, (runaway > 0 ? String.format(
                                    java.util.Locale.ROOT, "the loss stayed above %.0e for %d steps in a row; ", RUNAWAY_LOSS, RUNAWAY_STEPS) : "")
                                    + (outDir == null ? "" : TrainingDivergedException.keptText(outDir, kept) + "; ")
                                    + "lower --lr, add --warmup, or check the data");
                        }
                    }
                    sums.add(r);
                    steps++;
                    listener.onStep(epoch, b, r.loss(), sums.accuracy(), lr);
                    if (config.checkpointEvery() > 0 && (b + 1) % config.checkpointEvery() == 0 && b + 1 < numBatches) {
                        saveCheckpoint(model, opt, epoch, b + 1, sums.toMap(), history);
                    }
                    sums.seconds += (System.nanoTime() - t0) / 1e9;   // wall time: data, step and checkpoint
                }
                Map<String, Object> row = epochRow(epoch, schedule, sums, model);
                // the epoch's last update has no next step to see its loss: a model it broke (weights or outputs no longer
                // finite) was checkpointed and reported as trained, with a test loss of NaN
                double after = lossAfterLastStep(model, row);
                if (!Double.isFinite(after)) {
                    throw new TrainingDivergedException(epoch, numBatches - 1, after, outDir, kept,
                            "its last step left the model's " + (Double.isNaN(after) && !finiteParameters(model) ? "weights" : "outputs")
                                    + " non-finite; " + (outDir == null ? "" : TrainingDivergedException.keptText(outDir, kept) + "; ")
                                    + "lower --lr, add --warmup, or check the data");
                }
                history.add(row);
                trainSeconds += sums.seconds;
                saveCheckpoint(model, opt, epoch + 1, 0, Map.of(), history);
                writeHistory(history);
                listener.onEpochEnd(row);
            }
            if (test != null && lastTest == null) lastTest = Evaluator.evaluate(model, test, config.evalBatchSize(), device);
        }
        return new Outcome(model, history, lastTest, trainSeconds, steps, restored != null);
    }

    /** The loss of the model an epoch ended with: NaN where its weights are not finite, else its validation or test loss (0 when it has neither). */
    private static double lossAfterLastStep(Module model, Map<String, Object> row) {
        if (!finiteParameters(model)) return Double.NaN;
        for (String k : List.of("val_loss", "test_loss")) {
            if (row.get(k) instanceof Number n && !Double.isFinite(n.doubleValue())) return n.doubleValue();
        }
        return 0;
    }

    private static boolean finiteParameters(Module model) {
        try (Scope s = Scope.open()) {
            for (dev.tikhon.nn.Parameter p : model.parameters()) if (!p.value().allFinite()) return false;
        }
        return true;
    }

    private void checkCompatible(Checkpoint.Meta meta) {
        if (!meta.model().equals(spec)) {
            throw new dev.tikhon.UserError("--resume: the checkpoint in " + outDir + " is of model " + meta.model().arch()
                    + " " + meta.model().options() + ", not " + spec.arch() + " " + spec.options()
                    + "; use another --out or the checkpoint's model options");
        }
        if (!meta.objective().equals(objective.describe())) {
            throw new dev.tikhon.UserError("--resume: the checkpoint was trained with objective '" + meta.objective()
                    + "', not '" + objective.describe() + "'");
        }
    }

    private void requireSameSettings(Checkpoint.Meta meta) {
        List<String> diff = new ArrayList<>(SettingsDiff.of(meta.config(), config, TrainConfig.BOOKKEEPING));
        // what the data is (its name, image size, seed, and below its size), not where it was read from, which may move
        // (the description names the folder)
        if (meta.data() != null && data != null) {
            diff.addAll(SettingsDiff.of(meta.data(), data, Set.of("dir", "description")).stream().map(d -> "data " + d).toList());
        }
        if (meta.trainExamples() != null && meta.trainExamples() != train.size()) {
            diff.add("training examples " + meta.trainExamples() + " recorded, " + train.size() + " asked");
        }
        SettingsDiff.requireNone(diff, outDir, "a model trained");
    }

    private Map<String, Object> epochRow(int epoch, LrSchedule schedule, EpochSums sums, Module model) {
        Map<String, Object> row = new LinkedHashMap<>();
        row.put("epoch", epoch + 1);
        row.put("lr", schedule.at(epoch));   // at the start of the epoch
        row.put("train_loss", sums.loss());
        row.put("train_acc", sums.accuracy());
        sums.parts.forEach((k, v) -> row.put("train_" + k, v));
        if (val != null) {
            Evaluator.Result v = Evaluator.evaluate(model, val, config.evalBatchSize(), device);
            row.put("val_loss", v.loss());
            row.put("val_acc", v.accuracy());
        }
        if (test != null) {
            lastTest = Evaluator.evaluate(model, test, config.evalBatchSize(), device);
            row.put("test_loss", lastTest.loss());
            row.put("test_acc", lastTest.accuracy());
        }
        row.put("seconds", sums.seconds);
        row.put("steps", (long) sums.steps);
        row.put("steps_per_second", sums.steps / Math.max(sums.seconds, 1e-9));
        return row;
    }

    private void saveCheckpoint(Module model, Optimizer opt, int epoch, int batch, Map<String, Double> partial,
                                List<Map<String, Object>> history) {
        if (outDir == null) return;
        listener.beforeCheckpoint(epoch, batch);
        Checkpoint.Meta meta = new Checkpoint.Meta(spec, config, objective.describe(), data, epoch, batch,
                partial, history, Version.VERSION, train.size());
        try {
            Checkpoint.save(outDir.resolve(Checkpoint.FILE_NAME), meta, model.stateDict(), opt.state());
            kept = new int[]{epoch, batch};
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write checkpoint in " + outDir + ": " + e.getMessage(), e);
        }
    }

    private void writeHistory(List<Map<String, Object>> history) {
        if (outDir == null) return;
        Set<String> keys = new LinkedHashSet<>();
        for (Map<String, Object> row : history) keys.addAll(row.keySet());
        List<String> header = new ArrayList<>(keys);
        List<List<Object>> rows = new ArrayList<>();
        for (Map<String, Object> row : history) {
            List<Object> r = new ArrayList<>();
            for (String k : header) r.add(row.getOrDefault(k, ""));
            rows.add(r);
        }
        Csv.write(outDir.resolve("history.csv"), header, rows);
        Charts.trainingCurves(outDir, history);
        Json.write(outDir.resolve("history.json"), history);
    }

    /**
     * Running sums over the steps of one epoch; restorable from a mid-epoch checkpoint. The objective's parts are kept as
     * running means over the examples (a part a step does not report counts 0 there), so that a part constant over the
     * epoch, such as the ε of certified training, is reported exactly, not as a sum of products divided back.
     */
    private static final class EpochSums {
        double lossSum, correct, count, seconds, steps;
        final Map<String, Double> parts = new LinkedHashMap<>();

        static EpochSums from(Map<String, Double> m) {
            EpochSums s = new EpochSums();
            s.lossSum = m.getOrDefault("loss_sum", 0.0);
            s.correct = m.getOrDefault("correct", 0.0);
            s.count = m.getOrDefault("count", 0.0);
            s.seconds = m.getOrDefault("seconds", 0.0);
            s.steps = m.getOrDefault("steps", 0.0);
            m.forEach((k, v) -> {
                if (k.startsWith("part_mean:")) s.parts.put(k.substring(10), v);
                else if (k.startsWith("part:")) s.parts.put(k.substring(5), v / Math.max(s.count, 1));   // a checkpoint that kept sums
            });
            return s;
        }

        void add(TrainStep.Result r) {
            lossSum += r.loss() * r.size();
            correct += r.correct();
            count += r.size();
            steps++;
            double weight = r.size() / count;   // 1 on an epoch's first step: the mean starts at the value itself
            for (Map.Entry<String, Double> e : parts.entrySet()) {   // a part this step did not report counts 0 here
                e.setValue(e.getValue() + (r.parts().getOrDefault(e.getKey(), 0.0) - e.getValue()) * weight);
            }
            r.parts().forEach((k, v) -> parts.putIfAbsent(k, v * weight));   // first reported now: 0 before
        }

        double loss() { return lossSum / Math.max(count, 1); }

        double accuracy() { return correct / Math.max(count, 1); }

        Map<String, Double> toMap() {
            Map<String, Double> m = new LinkedHashMap<>();
            m.put("loss_sum", lossSum);
            m.put("correct", correct);
            m.put("count", count);
            m.put("seconds", seconds);
            m.put("steps", steps);
            parts.forEach((k, v) -> m.put("part_mean:" + k, v));
            return m;
        }
    }
}
