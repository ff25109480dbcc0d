package dev.tikhon.attack;

import dev.tikhon.engine.Tensor;
import dev.tikhon.nn.Module;

/**
 * A training-time perturbation: (model, inputs, labels) → a detached batch of perturbed inputs to train on
 * (adversarial training). Unlike an {@link Attack} it reports no success or distance.
 */
public interface Perturbation {
    Tensor perturb(Module model, Tensor x, Tensor y);

    String describe();
}
