package dev.tikhon.kernel;

import dev.tikhon.data.DataLoader;
import dev.tikhon.data.Dataset;
import dev.tikhon.engine.DType;
import dev.tikhon.engine.Device;
import dev.tikhon.engine.Rng;
import dev.tikhon.engine.Scope;
import dev.tikhon.engine.Tensor;
import dev.tikhon.loss.Loss;
import dev.tikhon.nn.Module;
import dev.tikhon.optim.LrSchedule;
import dev.tikhon.optim.Sgd;

import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;

/**
 * A kernel classifier trained by SGD (docs/methods.md §9): f(x) = Σⱼ aⱼ k(x, cⱼ) + b over m centres drawn from
 * the training set (or f(x) = Wᵀφ(x) + b over random Fourier features), minimizing the mean of a
 * classification loss from {@link dev.tikhon.loss.Losses} plus weight decay on the coefficients,
 * by mini-batch SGD with momentum and a cosine learning-rate schedule. Convex in (a, b) for the
 * convex losses, so the coefficients start at zero. Seeded: batches and draws derive from the seed.
 */
public final class KernelSgd {

    /** Training settings. */
    public record Options(int epochs, int batchSize, double lr, double momentum, double weightDecay, long seed, Loss loss) {
        public Options {
            if (epochs < 1) throw new IllegalArgumentException("--epochs must be at least 1, got " + epochs);
            if (batchSize < 1) throw new IllegalArgumentException("--batch-size must be at least 1, got " + batchSize);
            if (!(lr > 0)) throw new IllegalArgumentException("--lr must be positive, got " + lr);
        }
    }

    private KernelSgd() {}

    /** The model to train: m centres chosen at random from {@code train}, or D random Fourier features. */
    public static KernelModel model(Kernel kernel, Dataset train, int centres, int features, long seed, Map<String, Object> details) {
        int inputDim = (int) (train.inputs().numel() / train.size());
        Module map;
        String kind;
        int count;
        if (features > 0) {
            map = RandomFourierFeatures.sample(kernel, inputDim, features, seed, DType.FLOAT32);
            kind = "rff";
            count = features;
        } else {
            if (centres < 1) throw new IllegalArgumentException("--centres must be at least 1, got " + centres);
            count = Math.min(centres, train.size());
            long[] idx = KernelMethods.sample(train.size(), count, Rng.derive(seed, 0xCE));
            Tensor c = train.batchInputs(Tensor.fromLongs(idx, idx.length)).flatten(1, -1);
            map = new KernelFeatures(kernel, c);
            kind = "centres";
        }
        KernelModel.Spec spec = new KernelModel.Spec("sgd", kernel.toMap(), kind, count, inputDim, train.numClasses(), true,
                DType.FLOAT32.name(), details);
        return new KernelModel(spec, map);
    }

    /**
     * Trains {@code model} in place; returns one row per epoch (train loss, accuracy, lr, seconds).
     * {@code onEpoch} sees each row as it is made (progress); it may be null.
     */
    public static List<Map<String, Object>> train(KernelModel model, Dataset train, Options o, Device device,
                                                  Consumer<Map<String, Object>> onEpoch) {
        model.to(device);
        Sgd opt = new Sgd(model.head().parameters(), o.lr(), o.momentum(), false, o.weightDecay(), false);
        LrSchedule schedule = LrSchedule.cosine(o.lr(), o.epochs(), 0);
        DataLoader loader = new DataLoader(train, o.batchSize(), true, o.seed(), device);
        int batches = loader.numBatches();
        List<Map<String, Object>> history = new ArrayList<>();
        for (int epoch = 0; epoch < o.epochs(); epoch++) {
            long t0 = System.nanoTime();
            double lossSum = 0;
            long correct = 0, seen = 0;
            Iterator<DataLoader.Batch> it = loader.iterator(epoch, 0);
            for (int b = 0; it.hasNext(); b++) {
                opt.setLr(schedule.at(epoch + (double) b / batches));
                try (Scope s = Scope.open()) {
                    Rng.seed(Rng.derive(o.seed(), epoch, b));
                    DataLoader.Batch batch = it.next();
                    opt.zeroGrad();
                    Tensor out = model.forward(batch.x());
                    Tensor loss = o.loss().perExample(out, batch.y()).mean();
                    loss.backward();
                    opt.step();
                    lossSum += loss.item() * batch.size();
                    correct += out.argmax(1).eq(batch.y()).sum().itemLong();
                    seen += batch.size();
                }
            }
            Map<String, Object> row = new LinkedHashMap<>();
            row.put("epoch", epoch + 1);
            row.put("lr", schedule.at(epoch));
            row.put("train_loss", lossSum / seen);
            row.put("train_acc", (double) correct / seen);
            row.put("seconds", (System.nanoTime() - t0) / 1e9);
            if (!Double.isFinite(lossSum)) {
                throw new IllegalArgumentException("kernel SGD diverged in epoch " + (epoch + 1) + ": lower --lr");
            }
            history.add(row);
            if (onEpoch != null) onEpoch.accept(row);
        }
        return history;
    }
}
