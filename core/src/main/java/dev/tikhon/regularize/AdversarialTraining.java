package dev.tikhon.regularize;

import dev.tikhon.attack.Perturbation;
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
    /**
     * Its settings: the attack norm (linf or l2), radius ε, PGD steps, step size (0: Madry's 2.5 ε / steps) and
     * random start. Defaults: linf, ε 0.1, 7 steps, step 0, random start. FGSM reads ε only.
     */
    public record Settings(String norm, double eps, int steps, double stepSize, boolean randomStart) {
        public static Settings parse(RegularizerOptions o) {
            return new Settings(o.text("norm", "linf"), o.number("eps", 0.1), Regularizers.ascentSteps(o, 7, "pgd"), o.number("step-size", 0),
                    o.flag("random-start", true));
        }

        /** FGSM's: ε only (one ℓ∞ step of size ε from x), so --norm, --pgd-steps, --step-size and --random-start are noted as ignored. */
        public static Settings fgsm(RegularizerOptions o) {
            return new Settings("linf", o.number("eps", 0.1), 1, 0, false);
        }
    }

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
        Tensor value = loss.mean(logits, y);
        return new Result(value, logits, Map.of());
    }

    @Override public String describe() {
        return "adversarial training, " + attack.describe() + (loss == Loss.CROSS_ENTROPY ? "" : ", loss " + loss.describe());
    }
}
