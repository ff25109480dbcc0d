package dev.tikhon.flow;

import dev.tikhon.UserError;
import dev.tikhon.data.DataSets;
import dev.tikhon.data.Dataset;
import dev.tikhon.data.Permutation;
import dev.tikhon.data.ToyData;
import dev.tikhon.engine.Rng;
import dev.tikhon.engine.Tensor;
import dev.tikhon.nn.Activation;

import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;

/** Builds the CNF model a {@link FlowConfig} describes, and the batches of the toy and image sets. */
public final class Flows {
    private Flows() {}

    public static boolean isToy(String data) { return ToyData.NAMES.contains(data); }

    /** The 28×28 greyscale image sets the multiscale model takes. */
    public static final List<String> IMAGE_SETS = List.of("fashion-mnist", DataSets.SAMPLE_NAME, "mnist");

    public static boolean isImages(String data) { return IMAGE_SETS.contains(data); }

    /** The shape of one example of the named data (without the batch dimension). */
    public static long[] exampleShape(String data) {
        if (isToy(data)) return new long[]{2};
        if (isImages(data)) return new long[]{1, 28, 28};
        throw new UserError("flow data '" + data + "' is not supported: use a 2-D toy set (" + String.join(", ", ToyData.NAMES)
                + ") or images (" + String.join(", ", IMAGE_SETS) + ")");
    }

    /** The CNF model for examples of the given shape (without the batch dimension); EK flows are built by their package. */
    public static FlowModel build(FlowConfig c, long[] exampleShape) {
        Divergence divergence = Divergence.parse(c.ode().divergence());
        if (c.methodIsEk()) throw new IllegalArgumentException("an EK flow is built by the transport package (EkFlow.build), not Flows");
        switch (c.field().model()) {
            case "mlp": {
                if (exampleShape.length != 1) {
                    throw new UserError("the mlp flow model takes vectors (the 2-D toy sets), not examples of shape "
                            + Arrays.toString(exampleShape) + ": use --model multiscale for images");
                }
                int dim = (int) exampleShape[0];
                return new ToyFlow(new ConcatMlpField(dim, c.field().hidden(), Activation.parse(c.field().activation())), dim, divergence, c.ode().endTime());
            }
            case "multiscale":
                return new ImageFlow(exampleShape, c.field().channels(), c.field().scales(), divergence, c.ode().endTime());
            default:
                throw new UserError("unknown flow model '" + c.field().model() + "': use mlp (2-D data) or multiscale (images)");
        }
    }

    /** A fresh batch of the toy set for each iteration: a pure function of (seed, iteration). */
    public static FlowTraining.Batches toyBatches(String data, int batchSize, long seed) {
        return it -> ToyData.generate(data, batchSize, Rng.derive(seed, 2, it)).inputs();
    }

    /** Held-out points of a toy set, never drawn in training (a different seed path). */
    public static Tensor toyHeldOut(String data, int n, long seed) {
        return ToyData.generate(data, n, Rng.derive(seed, 3)).inputs();
    }

    /**
     * Training batches of an image set: epochs of whole batches (the remainder of each epoch is
     * dropped), each epoch a Fisher–Yates permutation of the training set seeded by (seed, epoch), so
     * the batch of an iteration is a pure function of (seed, iteration). FLOAT32 in [0, 1].
     */
    public static FlowTraining.Batches imageBatches(Dataset train, int batchSize, long seed) {
        int n = train.size();
        if (batchSize > n) throw new UserError("--batch-size " + batchSize + " is larger than the " + n + " training images");
        int perEpoch = n / batchSize;
        return new FlowTraining.Batches() {
            private int epoch = -1;
            private long[] order;

            @Override public Tensor batch(int iteration) {
                int e = iteration / perEpoch, k = iteration % perEpoch;
                if (e != epoch) {
                    order = Permutation.of(n, new SplittableRandom(Rng.derive(seed, 5, e)));
                    epoch = e;
                }
                long[] idx = Arrays.copyOfRange(order, k * batchSize, (k + 1) * batchSize);
                return train.batchInputs(Tensor.fromLongs(idx, idx.length));
            }
        };
    }

    /** The first n test images (all of them if there are fewer), FLOAT32 in [0, 1]. */
    public static Tensor imageHeldOut(Dataset test, int n) {
        int m = Math.min(n, test.size());
        long[] idx = new long[m];
        for (int i = 0; i < m; i++) idx[i] = i;
        return test.batchInputs(Tensor.fromLongs(idx, m));
    }

    /** Loads an image set for a flow (Fashion-MNIST, its bundled sample, MNIST); {@code dataDir} may be null. */
    public static DataSets.Loaded loadImages(String data, java.nio.file.Path dataDir) {
        if (!isImages(data)) throw new UserError("'" + data + "' is not an image set: use one of " + String.join(", ", IMAGE_SETS));
        return DataSets.load(data, dataDir, System.getenv(), 0);
    }
}
