package dev.tikhon.regularize;

import dev.tikhon.attack.Pgd;
import dev.tikhon.engine.Ops;
import dev.tikhon.engine.Tensor;
import dev.tikhon.nn.Module;
import dev.tikhon.train.Objective;

import java.util.Map;

/**
 * Adversarial training (Goodfellow et al. with FGSM, Madry et al. with PGD): loss = mean ℓ(x'),
 * x' the attack's perturbation of x. To first order, one step of radius ε adds ε‖∇ₓℓ‖_* (total
 * variation) to the loss. Training accuracy is measured on the adversarial inputs.
 */
public final class AdversarialTraining implements Objective {
    private final Pgd attack;

    public AdversarialTraining(Pgd attack) {
        this.attack = attack;
    }

    @Override public Result evaluate(Module model, Tensor x, Tensor y) {
        Tensor adv = attack.perturb(model, x, y);
        Tensor logits = model.forward(adv);
        return new Result(Ops.crossEntropy(logits, y), logits, Map.of());
    }

    @Override public String describe() { return "adversarial training, " + attack.describe(); }
}
