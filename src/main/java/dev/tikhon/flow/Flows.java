package dev.tikhon.flow;

import dev.tikhon.UserError;
import dev.tikhon.data.ToyData;
import dev.tikhon.engine.Rng;
import dev.tikhon.engine.Tensor;
import dev.tikhon.nn.Activation;

import java.util.Arrays;

/** Builds the flow model a {@link FlowConfig} describes, and the batches of the 2-D toy sets. */
public final class Flows {
    private Flows() {}

    public static boolean isToy(String data) { return ToyData.NAMES.contains(data); }

    /** The shape of one example of the named data (without the batch dimension). */
    public static long[] exampleShape(String data) {
        if (isToy(data)) return new long[]{2};
        throw new UserError("flow data '" + data + "' is not supported: use a 2-D toy set (" + String.join(", ", ToyData.NAMES) + ")");
    }

    /** The model for examples of the given shape (without the batch dimension). */
    public static FlowModel build(FlowConfig c, long[] exampleShape) {
        Divergence divergence = Divergence.parse(c.divergence());
        switch (c.model()) {
            case "mlp": {
                if (exampleShape.length != 1) {
                    throw new UserError("the mlp flow model takes vectors (the 2-D toy sets), not examples of shape "
                            + Arrays.toString(exampleShape) + ": use --model multiscale for images");
                }
                int dim = (int) exampleShape[0];
                return new ToyFlow(new ConcatMlpField(dim, c.hidden(), Activation.parse(c.activation())), dim, divergence, c.endTime());
            }
            default:
                throw new UserError("unknown flow model '" + c.model() + "': use mlp (2-D data)");
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
}
