package dev.tikhon.experiments;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonProperty;
import dev.tikhon.data.Dataset;
import dev.tikhon.engine.Device;
import dev.tikhon.models.ModelSpec;
import dev.tikhon.models.Models;
import dev.tikhon.report.Charts;
import dev.tikhon.report.Csv;
import dev.tikhon.report.Json;
import dev.tikhon.train.DataInfo;
import dev.tikhon.train.Objective;
import dev.tikhon.train.TrainConfig;
import dev.tikhon.train.Trainer;
import dev.tikhon.train.TrainingDivergedException;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The claim of Pooladian, Finlay, Hoheisel &amp; Oberman, "Farkas layers: don't shift the data, fix
 * the geometry" (docs/methods.md §8): deep residual networks with no batch normalization and standard
 * initialization train at learning rate 0.1 with Farkas layers, and stall or diverge without them.
 * For each depth it trains a FarkasNet, the plain ResNet of the same depth without batch norm, and
 * the plain ResNet with batch norm, all with SGD (momentum 0.9, weight decay 5e-4 on weights,
 * constant learning rate 0.1), the same seed, data and number of epochs; optional recipe variants
 * (zero-last initialization, linear warm-up, learning rate 0.01) search for a setting in which
 * one trains and the other does not. It records every step's training loss (for the curves) and
 * the test accuracy; a run whose loss becomes NaN is recorded as diverged, with its step, and the
 * experiment goes on. Each variant is its own resumable run directory.
 */
public final class FarkasExperiment {
    /** Classification of a finished variant. */
    public static final double STALL_ACCURACY = 0.2;   // twice chance on ten classes

    /**
     * One trained configuration.
     *
     * @param arch   farkas-resnet or resnet
     * @param warmup linear warm-up length in epochs (0 = none)
     */
    public record Variant(String name, String arch, int depth, boolean batchNorm, boolean zeroLast, double lr, double warmup) {
        public ModelSpec spec(List<Long> inputShape, int numClasses, int width) {
            Map<String, Object> o = new LinkedHashMap<>();
            o.put("depth", depth);
            o.put("width", width);
            if (arch.equals("resnet")) o.put("batch_norm", batchNorm);
            o.put("init", "standard");
            o.put("zero_last", zeroLast);
            return Models.spec(arch, inputShape, numClasses, o);
        }

        /** lr 0.1, no warm-up, standard init without zero-last: the claim's recipe. */
        public boolean isDefaultRecipe() {
            return lr == 0.1 && warmup == 0 && !zeroLast;
        }

        public String describe() {
            return (arch.equals("farkas-resnet") ? "Farkas" : batchNorm ? "plain + BN" : "plain") + "-" + depth
                    + (zeroLast ? ", zero-last" : "") + (warmup > 0 ? ", warm-up " + warmup + " ep" : "") + ", lr " + lr;
        }
    }

    /** The data and model size the experiment runs at (see docs/farkas.md for why). */
    public record Budget(int trainSize, int testSize, int epochs, int width, int batchSize) {}

    /**
     * One row of the result table.
     *
     * @param status          trains, stalled (test accuracy below {@link #STALL_ACCURACY}) or diverged
     * @param divergedAtStep  the step (from 1) whose loss was NaN or infinite, or -1
     * @param lastTrainLoss   mean training loss of the last completed epoch (NaN if none completed)
     */
    public record Row(Variant variant, String status, double testAccuracy, double testLoss, double lastTrainLoss,
                      long divergedAtStep, long steps, double trainSeconds, long parameters) {}

    /** metrics.json's account of one variant; {@code divergedAtStep} is absent unless it diverged. */
    public record Summary(String description, String status, @JsonProperty("test_acc") double testAccuracy,
                          @JsonProperty("test_loss") double testLoss, @JsonProperty("last_epoch_train_loss") double lastEpochTrainLoss,
                          @JsonProperty("diverged_at_step") @JsonInclude(JsonInclude.Include.NON_NULL) Long divergedAtStep, long steps,
                          @JsonProperty("train_seconds") double trainSeconds, long parameters) {}

    /**
     * A variant's diverged.json: where its loss first became NaN or infinite (epoch and batch from 1), the last finite epoch
     * loss, and the training time up to it; read back instead of training a finished, diverged variant again, but only
     * when it was trained with the settings asked for ({@code config}, {@code model}; null in records written before them).
     */
    public record Diverged(int epoch, int batch, long step, String loss, @JsonProperty("last_train_loss") double lastTrainLoss,
                           @JsonProperty("train_seconds") double trainSeconds, String message, TrainConfig config, ModelSpec model) {}

    private final Dataset train, test;
    private final DataInfo dataInfo;
    private final Budget budget;
    private final long seed;
    private final Device device;
    private final Path out;

    public FarkasExperiment(Dataset train, Dataset test, DataInfo dataInfo, Budget budget, long seed, Device device, Path out) {
        this.train = train;
        this.test = test;
        this.dataInfo = dataInfo;
        this.budget = budget;
        this.seed = seed;
        this.device = device;
        this.out = out;
    }

    /** Farkas, plain and plain + BN at each depth, lr 0.1, standard init; with {@code search}, recipe variants at the first depth. */
    public static List<Variant> variants(List<Integer> depths, boolean search) {
        List<Variant> v = new ArrayList<>();
        for (int d : depths) {
            v.add(new Variant("farkas-" + d, "farkas-resnet", d, false, false, 0.1, 0));
            v.add(new Variant("plain-" + d, "resnet", d, false, false, 0.1, 0));
            v.add(new Variant("plain-bn-" + d, "resnet", d, true, false, 0.1, 0));
        }
        if (search && !depths.isEmpty()) {
            int d = depths.get(0);
            v.add(new Variant("farkas-" + d + "-zero-last", "farkas-resnet", d, false, true, 0.1, 0));
            v.add(new Variant("plain-" + d + "-zero-last", "resnet", d, false, true, 0.1, 0));
            v.add(new Variant("farkas-" + d + "-warmup", "farkas-resnet", d, false, false, 0.1, 0.5));
            v.add(new Variant("plain-" + d + "-warmup", "resnet", d, false, false, 0.1, 0.5));
            v.add(new Variant("farkas-" + d + "-lr0.01", "farkas-resnet", d, false, false, 0.01, 0));
            v.add(new Variant("plain-" + d + "-lr0.01", "resnet", d, false, false, 0.01, 0));
        }
        return v;
    }

    public TrainConfig config(Variant v) {
        return TrainConfig.builder().epochs(budget.epochs()).batchSize(budget.batchSize()).optimizer("sgd").lr(v.lr()).momentum(0.9)
                .weightDecay(5e-4).schedule("constant").warmupEpochs(v.warmup()).seed(seed).evalBatchSize(256).build();
    }

    /** Trains (or resumes, or reads back) every variant; {@code listeners} gives a progress listener per variant name. */
    public List<Row> run(List<Variant> variants, java.util.function.Function<String, Trainer.Listener> listeners) {
        List<Long> shape = new ArrayList<>();
        for (long d : train.inputShape()) shape.add(d);
        List<Row> rows = new ArrayList<>();
        for (Variant v : variants) {
            Path dir = out.resolve(v.name());
            ModelSpec spec = v.spec(shape, train.numClasses(), budget.width());
            long parameters = Models.build(spec).parameterCount();
            StepLog log = new StepLog(dir.resolve("steps.csv"));
            Path divergedFile = dir.resolve("diverged.json");
            if (Files.exists(divergedFile)) {   // a finished, diverged variant: read its record back
                Diverged d = Json.read(divergedFile, Diverged.class);
                List<String> diff = new ArrayList<>();
                if (d.config() != null) {   // records written before the settings were kept cannot be checked
                    diff.addAll(dev.tikhon.report.SettingsDiff.of(d.config(), config(v), TrainConfig.BOOKKEEPING));
                    diff.addAll(dev.tikhon.report.SettingsDiff.of(d.model(), spec, java.util.Set.of()).stream().map(x -> "model " + x).toList());
                }
                dev.tikhon.report.SettingsDiff.requireNone(diff, dir, "a run that diverged");
                rows.add(new Row(v, "diverged", Double.NaN, Double.NaN, d.lastTrainLoss(), d.step(), d.step(), d.trainSeconds(), parameters));
                continue;
            }
            Trainer.Listener progress = listeners.apply(v.name());
            Trainer t = new Trainer(spec, Objective.crossEntropy(), config(v), train, null, test, dataInfo, device, dir,
                    log.wrapping(progress, train.size(), budget.batchSize()));
            try {
                Trainer.Outcome o = t.onlySameSettings().run(true);
                log.save();
                double lastLoss = o.history().isEmpty() ? Double.NaN : ((Number) o.history().get(o.history().size() - 1).get("train_loss")).doubleValue();
                String status = o.test().accuracy() < STALL_ACCURACY ? "stalled" : "trains";
                long steps = 0;
                for (Map<String, Object> row : o.history()) steps += ((Number) row.get("steps")).longValue();
                rows.add(new Row(v, status, o.test().accuracy(), o.test().loss(), lastLoss, -1, steps, o.trainSeconds(), parameters));
            } catch (TrainingDivergedException e) {
                long step = (long) e.epoch * stepsPerEpoch() + e.batch + 1;
                log.add(e.epoch, e.batch, step, e.loss);
                log.save();
                double lastLoss = log.lastFiniteLoss();
                Json.write(divergedFile, new Diverged(e.epoch + 1, e.batch + 1, step, String.valueOf(e.loss), lastLoss, log.seconds(),
                        e.getMessage(), config(v), spec));
                rows.add(new Row(v, "diverged", Double.NaN, Double.NaN, lastLoss, step, step, log.seconds(), parameters));
            }
        }
        return rows;
    }

    private void lossChart(String file, String title, List<Row> rows) {
        List<Charts.Series> curves = new ArrayList<>();
        for (Row r : rows) {
            double[][] c = StepLog.read(out.resolve(r.variant().name()).resolve("steps.csv")).smoothed(10);
            curves.add(new Charts.Series(r.variant().name() + " (" + r.status() + ")", c[0], c[1]));
        }
        Charts.line(out.resolve(file), title, "step", "cross-entropy", curves, true);
    }

    private int stepsPerEpoch() {
        return (train.size() + budget.batchSize() - 1) / budget.batchSize();
    }

    /** results.csv, training_loss.png and training_loss_search.png (per-step loss, running mean of 10 steps), test_accuracy.png; returns metrics. */
    public Map<String, Summary> report(List<Row> rows) {
        List<List<Object>> table = new ArrayList<>();
        for (Row r : rows) {
            table.add(List.of(r.variant().name(), r.variant().arch(), r.variant().depth(), r.variant().batchNorm(), r.variant().zeroLast(),
                    r.variant().lr(), r.variant().warmup(), r.status(), r.testAccuracy(), r.testLoss(), r.lastTrainLoss(),
                    r.divergedAtStep() < 0 ? "" : r.divergedAtStep(), r.steps(), r.trainSeconds(), r.parameters()));
        }
        Csv.write(out.resolve("results.csv"), List.of("variant", "arch", "depth", "batch_norm", "zero_last", "lr", "warmup_epochs",
                "status", "test_acc", "test_loss", "last_epoch_train_loss", "diverged_at_step", "steps", "train_seconds", "parameters"), table);
        // one chart for the comparison at the default recipe, one for the recipe search (with its depth's defaults beside it)
        List<Row> base = rows.stream().filter(r -> r.variant().isDefaultRecipe()).toList();
        lossChart("training_loss.png", "Training loss per step, lr 0.1, standard init (running mean of 10; log scale)", base);
        List<Row> searched = rows.stream().filter(r -> !r.variant().isDefaultRecipe()).toList();
        if (!searched.isEmpty()) {
            int depth = searched.get(0).variant().depth();
            List<Row> withBase = new ArrayList<>(base.stream().filter(r -> r.variant().depth() == depth).toList());
            withBase.addAll(searched);
            lossChart("training_loss_search.png", "Recipe search at depth " + depth + " (running mean of 10; log scale)", withBase);
        }
        Charts.bar(out.resolve("test_accuracy.png"), "Test accuracy (diverged: 0)", rows.stream().map(r -> r.variant().name()).toList(),
                rows.stream().mapToDouble(r -> Double.isNaN(r.testAccuracy()) ? 0 : r.testAccuracy()).toArray());
        Map<String, Summary> m = new LinkedHashMap<>();
        for (Row r : rows) {
            m.put(r.variant().name(), new Summary(r.variant().describe(), r.status(), r.testAccuracy(), r.testLoss(), r.lastTrainLoss(),
                    r.divergedAtStep() >= 0 ? r.divergedAtStep() : null, r.steps(), r.trainSeconds(), r.parameters()));
        }
        return m;
    }

    /**
     * Every step's training loss of one variant, kept in {@code steps.csv} so that a resumed
     * variant keeps the curve of its earlier part: entries at or after the position a resumed
     * run restarts from are dropped (they will be recomputed, identically).
     */
    static final class StepLog {
        private final Path file;
        private final List<double[]> entries = new ArrayList<>();   // epoch, batch, step, loss, seconds
        private long lastSave;

        StepLog(Path file) {
            this.file = file;
            if (Files.exists(file)) entries.addAll(read(file).entries);
        }

        private StepLog(Path file, List<double[]> entries) {
            this.file = file;
            this.entries.addAll(entries);
        }

        static StepLog read(Path file) {
            List<double[]> e = new ArrayList<>();
            if (Files.exists(file)) {
                for (List<String> row : Csv.read(file).rows()) {
                    double[] d = new double[5];
                    for (int i = 0; i < 5; i++) d[i] = Double.parseDouble(row.get(i));
                    e.add(d);
                }
            }
            return new StepLog(file, e);
        }

        void truncate(int epoch, int batch) {
            entries.removeIf(d -> d[0] > epoch || (d[0] == epoch && d[1] >= batch));
        }

        void add(int epoch, int batch, long step, double loss) {
            entries.add(new double[]{epoch, batch, step, loss, System.nanoTime() / 1e9});
        }

        double lastFiniteLoss() {
            for (int i = entries.size() - 1; i >= 0; i--) if (Double.isFinite(entries.get(i)[3])) return entries.get(i)[3];
            return Double.NaN;
        }

        /** Wall seconds between the first and last entry of this process's part (a rough figure for diverged runs). */
        double seconds() {
            if (entries.size() < 2) return 0;
            return Math.max(0, entries.get(entries.size() - 1)[4] - entries.get(0)[4]);
        }

        void save() {
            List<List<Object>> rows = new ArrayList<>();
            for (double[] d : entries) rows.add(List.of((long) d[0], (long) d[1], (long) d[2], d[3], d[4]));
            try {
                Files.createDirectories(file.getParent());
            } catch (java.io.IOException e) {
                throw new java.io.UncheckedIOException(e);
            }
            Csv.write(file, List.of("epoch", "batch", "step", "loss", "clock_seconds"), rows);
        }

        /** {steps, running mean of the last {@code window} losses}; a non-finite loss ends the curve there. */
        double[][] smoothed(int window) {
            List<Double> xs = new ArrayList<>(), ys = new ArrayList<>();
            double sum = 0;
            for (int i = 0; i < entries.size(); i++) {
                double loss = entries.get(i)[3];
                if (!Double.isFinite(loss)) break;
                sum += loss;
                if (i >= window) sum -= entries.get(i - window)[3];
                xs.add(entries.get(i)[2]);
                ys.add(sum / Math.min(i + 1, window));
            }
            return new double[][]{xs.stream().mapToDouble(Double::doubleValue).toArray(), ys.stream().mapToDouble(Double::doubleValue).toArray()};
        }

        /** A listener that records each step and forwards everything to {@code progress} (which may be null). */
        Trainer.Listener wrapping(Trainer.Listener progress, int trainSize, int batchSize) {
            Trainer.Listener inner = progress != null ? progress : new Trainer.Listener() {};
            int perEpoch = (trainSize + batchSize - 1) / batchSize;
            return new Trainer.Listener() {
                @Override public void onEpochStart(int epoch, int epochs, int startBatch, int numBatches) {
                    truncate(epoch, startBatch);
                    inner.onEpochStart(epoch, epochs, startBatch, numBatches);
                }

                @Override public void onStep(int epoch, int batch, double loss, double accuracy, double lr) {
                    add(epoch, batch, (long) epoch * perEpoch + batch + 1, loss);
                    if (entries.size() - lastSave >= 25) {
                        save();
                        lastSave = entries.size();
                    }
                    inner.onStep(epoch, batch, loss, accuracy, lr);
                }

                @Override public void beforeCheckpoint(int epoch, int batch) {
                    save();   // the log on disk must reach at least the checkpoint's position, or a resume loses steps
                    lastSave = entries.size();
                    inner.beforeCheckpoint(epoch, batch);
                }

                @Override public void onEpochEnd(Map<String, Object> row) {
                    inner.onEpochEnd(row);   // the log was saved before the epoch's checkpoint
                }
            };
        }
    }
}
