package dev.tikhon.certify;

import dev.tikhon.attack.Attack;
import dev.tikhon.attack.Ensemble;
import dev.tikhon.attack.Ddn;
import dev.tikhon.attack.AttackLoss;
import dev.tikhon.attack.Apgd;
import dev.tikhon.attack.Norm;
import dev.tikhon.attack.Pgd;
import dev.tikhon.attack.SmoothedClassifier;
import dev.tikhon.engine.Autograd;
import dev.tikhon.engine.Rng;
import dev.tikhon.engine.Tensor;
import dev.tikhon.nn.Module;

import java.util.ArrayList;
import java.util.List;

/**
 * The soundness check of a randomized-smoothing certificate (Cohen et al.'s CERTIFY, or certificate (a) of a heat
 * model): an attack on the smoothed classifier g(x) = argmax_c P(f(x + η) = c), η ~ N(0, σ²I), inside the
 * certified radius. A certificate says g does not change within radius r (with probability ≥ 1 − α), so the
 * attack looks for x' with ‖x' − x‖₂ ≤ 0.999 r and g(x') ≠ g(x):
 *
 * <ol>
 *   <li>the attack runs on the noise-averaged soft classifier log E_η softmax f(x + η) ({@link SmoothedClassifier}, a
 *       fresh Monte Carlo estimate with {@code samples} draws at each forward pass, differentiable), which is how
 *       smoothed classifiers are attacked (Salman et al., SmoothAdv): ℓ2 PGD from x and random starts, then, with
 *       {@code ensemble}, the AutoAttack-style ensemble (APGD-CE, APGD-T, DDN; see docs/robustness.md);</li>
 *   <li>each candidate is judged by PREDICT on the base model with fresh noise (its own seed): a violation is a
 *       PREDICT that does not abstain and names another class; an abstention is counted apart (PREDICT could
 *       not tell, which is no evidence either way).</li>
 * </ol>
 * A violation is then itself probabilistic (PREDICT errs with probability ≤ α), which is why a sound run reports
 * zero and any count is worth a look.
 */
public final class SmoothedAttack {
    /** How many certificates were attacked, how many the judge found changed (violations), how many it abstained on. */
    public record Tally(long tested, long broken, long abstained) implements java.io.Serializable {
        public Tally plus(Tally o) { return new Tally(tested + o.tested, broken + o.broken, abstained + o.abstained); }
    }

    /**
     * @param fraction of the radius attacked (0.999: just inside)
     * @param samples  noise draws per forward pass of the attacked soft classifier
     * @param ensemble also run the ensemble (APGD-CE, APGD-T, DDN) where PGD found nothing
     */
    public record Settings(double fraction, int steps, int restarts, int samples, boolean ensemble, long seed)
            implements java.io.Serializable {}

    private SmoothedAttack() {}

    /**
     * Attacks one certificate of input {@code x} (one example, [C, H, W] or [D]) of {@code model}; the judge is
     * PREDICT with {@code judge}'s settings. Returns the tally of this one certificate (tested 0 when it abstained or
     * its radius is 0).
     */
    public static Tally attack(Module model, Tensor x, long index, Certificate c, RandomizedSmoothing judge, Settings s) {
        if (c.abstained() || !(c.radius() > 1e-6)) return new Tally(0, 0, 0);
        boolean was = model.isTraining();
        model.train(false);
        try {
            double eps = s.fraction() * c.radius();
            Module soft = new SmoothedClassifier(model, judge.config().sigma(), s.samples());
            Tensor x1 = x.unsqueeze(0), target = Tensor.fromLongs(new long[]{c.prediction()}, 1).to(x.device());
            List<Tensor> candidates = new ArrayList<>();
            for (int run = 0; run < s.restarts(); run++) {
                Rng.seed(Rng.derive(s.seed(), index, run));
                candidates.add(new Pgd(Norm.L2, eps, s.steps(), 2.5 * eps / s.steps(), run > 0).perturb(soft, x1, target).detach());
            }
            if (s.ensemble()) {
                Rng.seed(Rng.derive(s.seed(), index, -1));
                // The gradient members of the ℓ2 ensemble plus DDN: on a noise-averaged model every query costs
                // s.samples() forward passes, so the query-hungry Square member is left out.
                int classes = numClasses(model, x1);
                Ensemble e = new Ensemble(Norm.L2, eps, List.of(
                        new Apgd(Norm.L2, eps, s.steps(), AttackLoss.CE, 1),
                        classes > 2 ? new Apgd(Norm.L2, eps, s.steps(), classes >= 4 ? AttackLoss.DLR : AttackLoss.MARGIN, 1, 2)
                                    : new Apgd(Norm.L2, eps, s.steps(), AttackLoss.MARGIN, 1),
                        Ddn.standard(s.steps())));
                Attack.Result r = e.attack(soft, x1, target);
                if (r.success()[0]) candidates.add(r.adversarial());
            }
            boolean broken = false, abstained = false;
            for (int k = 0; k < candidates.size() && !broken; k++) {
                RandomizedSmoothing.Prediction p = judge.predict(model, candidates.get(k).squeeze(0), index);
                if (p.abstained()) abstained = true;
                else if (p.prediction() != c.prediction()) broken = true;
            }
            return new Tally(1, broken ? 1 : 0, !broken && abstained ? 1 : 0);
        } finally {
            model.train(was);
        }
    }

    private static int numClasses(Module model, Tensor x1) {
        try (Autograd.Guard g = Autograd.noGrad()) {
            return (int) model.forward(x1).size(1);
        }
    }
}
