package dev.tikhon.regularize;

import dev.tikhon.attack.Norm;
import dev.tikhon.attack.AttackRegistry;
import dev.tikhon.loss.Loss;
import dev.tikhon.loss.Losses;
import dev.tikhon.regularize.InputGradients.Dual;
import dev.tikhon.train.Objective;
import dev.tikhon.train.ObjectiveSpec;

import dev.tikhon.verify.CertifiedTraining;

import java.util.List;
import java.util.Map;
import java.util.Locale;

/** Builds the objective an {@link ObjectiveSpec} names. */
public final class Regularizers {
    public static final List<String> NAMES = List.of("none", "tikhonov", "tikhonov-exact", "tv", "lipschitz",
            "tv+lipschitz", "noise", "fgsm", "pgd", "ibp", "crown-ibp");

    private Regularizers() {}

    public static Objective build(ObjectiveSpec s) {
        Loss loss = Losses.parse(s.loss());
        switch (s.reg()) {
            case "none": return Objective.of(loss);
            case "tikhonov": return new Tikhonov(loss, s.lambda(), s.h(), dual(s.norm()), s.central());
            case "tikhonov-exact": return new TikhonovExact(loss, s.lambda(), dual(s.norm()));
            case "tv": return new GradientNormPenalty(loss, s.tvWeight(), 0, s.h(), dual(s.norm()));
            case "lipschitz": return new GradientNormPenalty(loss, 0, s.lipWeight(), s.h(), dual(s.norm()));
            case "tv+lipschitz": case "lipschitz+tv": return new GradientNormPenalty(loss, s.tvWeight(), s.lipWeight(), s.h(), dual(s.norm()));
            case "noise": return new NoiseAugmentation(loss, s.sigma());
            case "fgsm": case "pgd": return new AdversarialTraining(AttackRegistry.training(s.reg(),
                    AttackRegistry.Settings.training(s.reg().equals("fgsm") ? Norm.LINF : Norm.parse(s.norm()), s.eps(), s.steps(), s.stepSize(), s.randomStart())), loss);
            case "ibp": case "crown-ibp": return certified(s);
            default: throw new IllegalArgumentException("unknown --reg '" + s.reg() + "': use one of " + String.join(", ", NAMES)
                    + " (tv,lipschitz combines the two)");
        }
    }

    /** Certified training (IBP, CROWN-IBP) with the schedule the spec records. */
    static Objective certified(ObjectiveSpec s) {
        Map<String, Double> sch = s.schedule();
        return new CertifiedTraining(s.reg().equals("ibp") ? CertifiedTraining.Bound.IBP : CertifiedTraining.Bound.CROWN_IBP,
                Norm.parse(s.norm()), s.eps(), sch.getOrDefault("warmup_epochs", 0.0), sch.getOrDefault("ramp_epochs", 0.0),
                sch.getOrDefault("kappa_end", 0.5));
    }

    /** The gradient norm a penalty controls: l2, or l1 (the dual of ℓ∞; "linf" names the threat model). */
    static Dual dual(String norm) {
        switch (norm.toLowerCase(Locale.ROOT)) {
            case "l2": return Dual.L2;
            case "l1": case "linf": return Dual.L1;
            default: throw new IllegalArgumentException("unknown --norm '" + norm + "' for a gradient penalty: use l2 or l1");
        }
    }
}
