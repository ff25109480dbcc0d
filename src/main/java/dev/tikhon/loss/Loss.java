package dev.tikhon.loss;

import dev.tikhon.engine.Ops;
import dev.tikhon.engine.Tensor;

/**
 * A per-example loss ℓ(output, target) → [N]. The regularizers are written against this
 * interface, so the same penalty applies to classification and to regression.
 */
public interface Loss {
    Tensor perExample(Tensor output, Tensor target);

    String describe();

    /** Cross-entropy of logits [N, K] against INT64 labels [N]. */
    Loss CROSS_ENTROPY = new Loss() {
        @Override public Tensor perExample(Tensor logits, Tensor labels) { return Ops.crossEntropyPerExample(logits, labels); }

        @Override public String describe() { return "cross-entropy"; }
    };

    /** ½‖output − target‖² per example, for float targets of the output's shape. */
    Loss SQUARED_ERROR = new Loss() {
        @Override public Tensor perExample(Tensor output, Tensor target) {
            return output.sub(target).flatten(1, -1).square().sum(1, false).mul(0.5);
        }

        @Override public String describe() { return "squared error"; }
    };
}
