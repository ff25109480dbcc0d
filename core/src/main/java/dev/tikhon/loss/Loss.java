package dev.tikhon.loss;

import dev.tikhon.engine.Ops;
import dev.tikhon.engine.Tensor;

/**
 * A per-example loss ℓ(output, target) → [N]. The regularizers are written against this
 * interface, so the same penalty applies to classification and to regression. The classification
 * family (hinge, logistic, squared on one-hot, Carlini–Wagner, smoothed KL) is in {@link Losses}.
 */
public interface Loss {
    Tensor perExample(Tensor output, Tensor target);

    String describe();

    /** The batch mean of the per-example loss: the scalar an objective backpropagates. */
    default Tensor mean(Tensor output, Tensor target) { return perExample(output, target).mean(); }

    /** The name {@link Losses#parse} reads back (the description, for the family). */
    default String name() { return describe(); }

    /**
     * The Lipschitz constant of ℓ in the outputs (ℓ2 norm) for {@code numClasses} classes: a bound
     * on ‖∇_z ℓ‖₂ everywhere; +∞ where there is none, NaN where it is not known.
     */
    default double lipschitz(int numClasses) { return Double.NaN; }

    /** Cross-entropy of logits [N, K] against INT64 labels [N]. */
    Loss CROSS_ENTROPY = new Loss() {
        @Override public Tensor perExample(Tensor logits, Tensor labels) { return Ops.crossEntropyPerExample(logits, labels); }

        @Override public Tensor mean(Tensor logits, Tensor labels) { return Ops.crossEntropy(logits, labels); }   // one fused op

        @Override public String describe() { return "cross-entropy"; }

        @Override public double lipschitz(int numClasses) { return Math.sqrt(2); }
    };

    /** ½‖output − target‖² per example, for float targets of the output's shape. */
    Loss SQUARED_ERROR = new Loss() {
        @Override public Tensor perExample(Tensor output, Tensor target) {
            return output.sub(target).flatten(1, -1).square().sum(1, false).mul(0.5);
        }

        @Override public String describe() { return "squared error"; }

        @Override public double lipschitz(int numClasses) { return Double.POSITIVE_INFINITY; }
    };
}
