package dev.tikhon.attack;

import dev.tikhon.engine.Ops;
import dev.tikhon.engine.Tensor;

import java.util.Locale;

/** Per-example losses an attack ascends. Each is larger the closer the example is to being misclassified. */
public enum AttackLoss {
    /** Cross-entropy −log p_y. */
    CE,
    /** Carlini–Wagner margin max_{i≠y} zᵢ − z_y on logits; ≥ 0 exactly when misclassified. */
    MARGIN,
    /**
     * Difference of logits ratio (Croce &amp; Hein 2020): −(z_y − max_{i≠y} zᵢ) / (z_π1 − z_π3), π sorting the
     * logits in decreasing order. Invariant to shifting and rescaling the logits, so it is not fooled by a
     * saturated softmax the way cross-entropy is. Needs at least three classes.
     */
    DLR;

    public Tensor perExample(Tensor logits, Tensor y) {
        return perExample(logits, y, null);
    }

    /**
     * The loss, or with a {@code target} class per example its targeted form, which pushes towards that class
     * only: CE → −CE(target); MARGIN → z_t − z_y; DLR → −(z_y − z_t) / (z_π1 − (z_π3 + z_π4)/2) (Croce &amp; Hein's
     * targeted DLR, which needs at least four classes).
     */
    public Tensor perExample(Tensor logits, Tensor y, Tensor target) {
        if (target != null) return targeted(logits, y, target);
        switch (this) {
            case CE: return Ops.crossEntropyPerExample(logits, y);
            case MARGIN: return bestOther(logits, y).sub(trueLogit(logits, y));
            case DLR: {
                if (logits.size(1) < 3) {
                    throw new IllegalArgumentException("the DLR loss needs at least 3 classes, the model has " + logits.size(1)
                            + ": use --loss ce or margin");
                }
                Tensor top = logits.topk(3, 1)[0];
                Tensor spread = top.select(1, 0).sub(top.select(1, 2)).add(1e-12);
                return bestOther(logits, y).sub(trueLogit(logits, y)).div(spread);
            }
            default: throw new AssertionError(this);
        }
    }

    private Tensor targeted(Tensor logits, Tensor y, Tensor target) {
        switch (this) {
            case CE: return Ops.crossEntropyPerExample(logits, target).neg();
            case MARGIN: return trueLogit(logits, target).sub(trueLogit(logits, y));
            case DLR: {
                if (logits.size(1) < 4) {
                    throw new IllegalArgumentException("the targeted DLR loss needs at least 4 classes, the model has " + logits.size(1)
                            + ": use the margin loss");
                }
                Tensor top = logits.topk(4, 1)[0];
                Tensor spread = top.select(1, 0).sub(top.select(1, 2).add(top.select(1, 3)).mul(0.5)).add(1e-12);
                return trueLogit(logits, target).sub(trueLogit(logits, y)).div(spread);
            }
            default: throw new AssertionError(this);
        }
    }

    /**
     * The class ranked {@code rank} (1 = highest) among those other than y, per example: the targets of a
     * targeted attack, tried in order of how close the model already is to them.
     */
    public static Tensor rankedTarget(Tensor logits, Tensor y, int rank) {
        Tensor others = logits.maskedFill(y.oneHot(logits.size(1)).eq(1), Double.NEGATIVE_INFINITY);
        return others.topk(rank, 1)[1].select(1, rank - 1);
    }

    static Tensor trueLogit(Tensor logits, Tensor y) {
        return logits.gather(1, y.unsqueeze(1)).squeeze(1);
    }

    /** max_{i≠y} zᵢ. */
    static Tensor bestOther(Tensor logits, Tensor y) {
        return logits.maskedFill(y.oneHot(logits.size(1)).eq(1), Double.NEGATIVE_INFINITY).amax(1, false);
    }

    public static AttackLoss parse(String s) {
        try {
            return valueOf(s.toUpperCase(Locale.ROOT).replace('-', '_'));
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("unknown attack loss '" + s + "': use ce, margin or dlr");
        }
    }

    @Override public String toString() { return name().toLowerCase(Locale.ROOT); }
}
