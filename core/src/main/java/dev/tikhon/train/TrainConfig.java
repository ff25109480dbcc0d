package dev.tikhon.train;

import dev.tikhon.data.Augmentation;

import java.util.List;

/**
 * Hyper-parameters of a training run. Stored in every checkpoint, so that {@code --resume}
 * continues exactly the run that was started.
 *
 * @param optimizer       sgd, adam or adamw
 * @param decayAll        apply weight decay to biases and normalization scales too
 * @param schedule        constant, piecewise or cosine
 * @param milestones      piecewise milestones as fractions of the epochs
 * @param warmupEpochs    linear warm-up length (fractional epochs allowed)
 * @param valFraction     fraction of the training set held out for validation (0 = none)
 * @param checkpointEvery also checkpoint every this many steps within an epoch (0 = at epoch ends only)
 * @param evalBatchSize   batch size for evaluation passes
 * @param objective       what is minimized (plain cross-entropy or a regularizer)
 * @param augment         training-data augmentation, {@link dev.tikhon.data.Augmentation}'s text ({@code crop:4,flip}, {@code none})
 */
public record TrainConfig(int epochs, int batchSize, String optimizer, double lr, double momentum, boolean nesterov,
                          double weightDecay, boolean decayAll, String schedule, List<Double> milestones, double gamma,
                          double warmupEpochs, long seed, double valFraction, int checkpointEvery, int evalBatchSize,
                          ObjectiveSpec objective, String augment) {

    /** The fields that change how a run is kept and reported, not what it trains (its reuse check skips them). */
    public static final java.util.Set<String> BOOKKEEPING = java.util.Set.of("checkpointEvery", "evalBatchSize");

    public TrainConfig {
        if (epochs < 1) throw new IllegalArgumentException("--epochs must be at least 1, got " + epochs);
        if (batchSize < 1) throw new IllegalArgumentException("--batch-size must be at least 1, got " + batchSize);
        if (!(lr > 0)) throw new IllegalArgumentException("--lr must be positive, got " + lr);
        if (valFraction < 0 || valFraction >= 1) throw new IllegalArgumentException("--val-fraction must be in [0, 1), got " + valFraction);
        if (checkpointEvery < 0) throw new IllegalArgumentException("--checkpoint-every must be ≥ 0, got " + checkpointEvery);
        if (evalBatchSize < 1) throw new IllegalArgumentException("--eval-batch-size must be at least 1, got " + evalBatchSize);
        milestones = List.copyOf(milestones);
        if (objective == null) objective = ObjectiveSpec.plain();
        augment = Augmentation.parse(augment).toString();   // canonical; absent in older checkpoints: none
    }

    /** A run without augmentation. */
    public TrainConfig(int epochs, int batchSize, String optimizer, double lr, double momentum, boolean nesterov,
                       double weightDecay, boolean decayAll, String schedule, List<Double> milestones, double gamma,
                       double warmupEpochs, long seed, double valFraction, int checkpointEvery, int evalBatchSize,
                       ObjectiveSpec objective) {
        this(epochs, batchSize, optimizer, lr, momentum, nesterov, weightDecay, decayAll, schedule, milestones, gamma,
                warmupEpochs, seed, valFraction, checkpointEvery, evalBatchSize, objective, null);
    }

    /** The augmentation the run applies to its training batches. */
    public Augmentation augmentation() { return Augmentation.parse(augment); }

    /** The same run with another augmentation. */
    public TrainConfig withAugment(Augmentation a) {
        return new TrainConfig(epochs, batchSize, optimizer, lr, momentum, nesterov, weightDecay, decayAll, schedule,
                milestones, gamma, warmupEpochs, seed, valFraction, checkpointEvery, evalBatchSize, objective, a.toString());
    }

    /** A plain cross-entropy run. */
    public TrainConfig(int epochs, int batchSize, String optimizer, double lr, double momentum, boolean nesterov,
                       double weightDecay, boolean decayAll, String schedule, List<Double> milestones, double gamma,
                       double warmupEpochs, long seed, double valFraction, int checkpointEvery, int evalBatchSize) {
        this(epochs, batchSize, optimizer, lr, momentum, nesterov, weightDecay, decayAll, schedule, milestones, gamma,
                warmupEpochs, seed, valFraction, checkpointEvery, evalBatchSize, ObjectiveSpec.plain());
    }

    /** The same run minimizing another objective. */
    public TrainConfig withObjective(ObjectiveSpec newObjective) {
        return new TrainConfig(epochs, batchSize, optimizer, lr, momentum, nesterov, weightDecay, decayAll, schedule,
                milestones, gamma, warmupEpochs, seed, valFraction, checkpointEvery, evalBatchSize, newObjective, augment);
    }

    /** The same run with a different number of epochs (extending a finished run with --resume). */
    public TrainConfig withEpochs(int newEpochs) {
        return new TrainConfig(newEpochs, batchSize, optimizer, lr, momentum, nesterov, weightDecay, decayAll, schedule,
                milestones, gamma, warmupEpochs, seed, valFraction, checkpointEvery, evalBatchSize, objective, augment);
    }

    /** The CLI's defaults: SGD with momentum 0.9, lr 0.05, cosine schedule, batch 128, 3 epochs. */
    public static Builder builder() { return new Builder(); }

    /** Builds a {@link TrainConfig} from defaults, naming only what differs. */
    public static final class Builder {
        private int epochs = 3, batchSize = 128, checkpointEvery = 0, evalBatchSize = 256;
        private String optimizer = "sgd", schedule = "cosine";
        private double lr = 0.05, momentum = 0.9, weightDecay = 0, gamma = 0.1, warmupEpochs = 0, valFraction = 0;
        private boolean nesterov, decayAll;
        private List<Double> milestones = List.of(0.5, 0.75);
        private long seed;
        private ObjectiveSpec objective = ObjectiveSpec.plain();
        private Augmentation augment = Augmentation.NONE;

        public Builder epochs(int v) { epochs = v; return this; }
        public Builder batchSize(int v) { batchSize = v; return this; }
        public Builder optimizer(String v) { optimizer = v; return this; }
        public Builder lr(double v) { lr = v; return this; }
        public Builder momentum(double v) { momentum = v; return this; }
        public Builder nesterov(boolean v) { nesterov = v; return this; }
        public Builder weightDecay(double v) { weightDecay = v; return this; }
        public Builder decayAll(boolean v) { decayAll = v; return this; }
        public Builder schedule(String v) { schedule = v; return this; }
        public Builder milestones(List<Double> v) { milestones = v; return this; }
        public Builder gamma(double v) { gamma = v; return this; }
        public Builder warmupEpochs(double v) { warmupEpochs = v; return this; }
        public Builder seed(long v) { seed = v; return this; }
        public Builder valFraction(double v) { valFraction = v; return this; }
        public Builder checkpointEvery(int v) { checkpointEvery = v; return this; }
        public Builder evalBatchSize(int v) { evalBatchSize = v; return this; }
        public Builder objective(ObjectiveSpec v) { objective = v; return this; }
        public Builder augment(Augmentation v) { augment = v; return this; }

        public TrainConfig build() {
            return new TrainConfig(epochs, batchSize, optimizer, lr, momentum, nesterov, weightDecay, decayAll, schedule,
                    milestones, gamma, warmupEpochs, seed, valFraction, checkpointEvery, evalBatchSize, objective, augment.toString());
        }
    }

    public double[] milestoneArray() {
        return milestones.stream().mapToDouble(Double::doubleValue).toArray();
    }
}
