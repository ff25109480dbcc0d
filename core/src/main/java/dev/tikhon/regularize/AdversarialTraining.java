package dev.tikhon.regularize;

import dev.tikhon.attack.Perturbation;
import dev.tikhon.engine.Ops;
import dev.tikhon.engine.Tensor;
import dev.tikhon.loss.Loss;
import dev.tikhon.nn.Module;
import dev.tikhon.train.Objective;

import java.util.Map;

/**
 * Adversarial training (Goodfellow et al. with FGSM, Madry et al. with PGD): loss = mean ℓ(x'),
 * x' the attack's perturbation of x. To first order, one step of radius ε adds ε‖∇ₓℓ‖_* (total
 * variation) to the loss. Training accuracy is measured on the adversarial inputs.
 */
public final class AdversarialTraining implements Objective {
    private final Perturbation attack;
    private final Loss loss;

    public AdversarialTraining(Perturbation attack) {
        this(attack, Loss.CROSS_ENTROPY);
    }

    /** Trains on {@code loss} at the attack's points (the attack itself ascends the cross-entropy). */
    public AdversarialTraining(Perturbation attack, Loss loss) {
        this.attack = attack;
        this.loss = loss;
    }

    @Override public Result evaluate(Module model, Tensor x, Tensor y) {
        Tensor adv = attack.perturb(model, x, y);
        Tensor logits = model.forward(adv);
        Tensor value = loss == Loss.CROSS_ENTROPY ? Ops.crossEntropy(logits, y) : loss.perExample(logits, y).mean();
        return new Result(value, logits, Map.of());
    }

    @Override public String describe() {
        return "adversarial training, " + attack.describe() + (loss == Loss.CROSS_ENTROPY ? "" : ", loss " + loss.describe());
    }
}
