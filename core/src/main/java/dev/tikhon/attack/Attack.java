package dev.tikhon.attack;

import dev.tikhon.engine.Tensor;
import dev.tikhon.nn.Module;

/**
 * An evasion attack: (model, inputs, labels) → perturbed inputs, and for each example whether the
 * model now misclassifies it and how large the perturbation is in the attack's norm. Inputs live in
 * the {@link InputDomain} in force (the [0, 1] box of images unless a caller set another) and every adversarial point
 * returned stays in it; inputs outside it are refused. The model's mode (train or eval)
 * is the caller's choice; evaluations put it in eval mode.
 */
public interface Attack {
    /** A short name for reports ("apgd-ce", "ddn", …). */
    String name();

    /** The norm distances are measured in. */
    Norm norm();

    Result attack(Module model, Tensor x, Tensor y);

    /**
     * @param adversarial per example, the smallest successful perturbation found, or the clean input where the
     *                    attack failed; detached
     * @param success     the model misclassifies {@code adversarial[i]}
     * @param distance    ‖adversarial[i] − x[i]‖ in {@link #norm()} where successful, +∞ otherwise
     */
    record Result(Tensor adversarial, boolean[] success, double[] distance) {
        public int successes() {
            int n = 0;
            for (boolean s : success) n += s ? 1 : 0;
            return n;
        }
    }
}
