package dev.tikhon.bounds;

import dev.tikhon.engine.Tensor;

/**
 * The margin loss on softmax probabilities of docs/methods.md §3: ℓ(x) = max_{i≠c} pᵢ − p_c, c the label. The
 * model misclassifies x (or ties) exactly when ℓ(x) ≥ 0, so any bound on how fast ℓ can grow is a
 * bound on the distance to misclassification.
 */
public final class MarginLoss {
    private MarginLoss() {}

    /** ℓ per example, shape [N], differentiable. */
    public static Tensor of(Tensor logits, Tensor labels) {
        Tensor p = logits.softmax(1);
        Tensor pc = p.gather(1, labels.unsqueeze(1)).squeeze(1);
        Tensor other = p.maskedFill(labels.oneHot(p.size(1)).eq(1), Double.NEGATIVE_INFINITY).amax(1, false);
        return other.sub(pc);
    }
}
