package dev.tikhon.train;

import dev.tikhon.engine.Tensor;
import dev.tikhon.nn.Module;

import java.util.Map;

/**
 * What training minimizes: maps (model, batch) to a scalar loss and its logged parts. Plain
 * cross-entropy, every regularizer and adversarial training are objectives; the trainer knows
 * nothing about any of them.
 */
public interface Objective {

    /**
     * @param loss   the scalar to backpropagate
     * @param logits the model's outputs on the clean batch (for accuracy)
     * @param parts  named scalar components worth logging (e.g. "ce", "penalty"), kept in name order: an objective may
     *               build them with {@code Map.of}, whose order changes from one JVM to the next, and they become
     *               history columns, which a resumed run (another JVM) must write in the same order
     */
    record Result(Tensor loss, Tensor logits, Map<String, Tensor> parts) {
        public Result {
            parts = java.util.Collections.unmodifiableMap(new java.util.TreeMap<>(parts));
        }
    }

    Result evaluate(Module model, Tensor x, Tensor y);

    String describe();

    /**
     * The spec that rebuilds this objective: what checkpoints record, and what {@code certify} and {@code --resume}
     * read. Null for an objective of the caller's own, which the checkpoint knows by {@link #describe()} alone.
     */
    default ObjectiveSpec spec() { return null; }

    /**
     * Where training stands, in epochs (fractional within an epoch), told by the trainer before each step. Objectives
     * with a schedule (certified training's ε and κ ramps) follow it; since it is a function of (epoch, batch) alone,
     * a resumed run sees the same schedule as one never interrupted.
     */
    default void progress(double epochs) {}

    /**
     * Parts an earlier version of this objective logged and this one does not: a run resumed from such a checkpoint
     * mid-epoch drops their partial means (they would average over the epoch's earlier steps only). Its earlier history
     * rows keep them. None by default.
     */
    default java.util.Set<String> retiredParts() { return java.util.Set.of(); }

    /**
     * Refuses, before the first step, a model this objective cannot train (a {@link dev.tikhon.UserError} naming the
     * layer or what is missing, and the alternative), so that an unsupported model fails at once and not after a warm-up
     * in which the check never ran. The trainer calls it once the model is built (also on --resume). Nothing by default.
     */
    default void check(Module model) {}

    /** Mean cross-entropy of the logits against the labels. */
    static Objective crossEntropy() {
        return new Objective() {
            @Override public Result evaluate(Module model, Tensor x, Tensor y) {
                Tensor logits = model.forward(x);
                Tensor loss = dev.tikhon.engine.Ops.crossEntropy(logits, y);
                return new Result(loss, logits, Map.of());
            }

            @Override public String describe() { return "cross-entropy"; }

            @Override public ObjectiveSpec spec() { return ObjectiveSpec.plain(); }
        };
    }

    /** Mean of a per-example loss of the logits (cross-entropy gives {@link #crossEntropy()}). */
    static Objective of(dev.tikhon.loss.Loss loss) {
        if (loss == dev.tikhon.loss.Loss.CROSS_ENTROPY) return crossEntropy();
        return new Objective() {
            @Override public Result evaluate(Module model, Tensor x, Tensor y) {
                Tensor logits = model.forward(x);
                return new Result(loss.perExample(logits, y).mean(), logits, Map.of());
            }

            @Override public String describe() { return loss.describe(); }

            @Override public ObjectiveSpec spec() { return ObjectiveSpec.plain().withLoss(loss.name()); }
        };
    }
}
