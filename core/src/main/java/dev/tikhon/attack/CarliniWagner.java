package dev.tikhon.attack;

import dev.tikhon.engine.Autograd;
import dev.tikhon.engine.DType;
import dev.tikhon.engine.Scope;
import dev.tikhon.engine.Tensor;
import dev.tikhon.nn.Module;
import dev.tikhon.optim.Adam;

import java.util.Arrays;
import java.util.List;

/**
 * The Carlini–Wagner ℓ2 attack (Carlini &amp; Wagner, "Towards evaluating the robustness of neural networks", IEEE S&amp;P
 * 2017): a minimum-distance attack. In the change of variables x' = ½(tanh w + 1), which keeps x' in the [0, 1] box
 * of images without clipping (lo + (hi − lo)·½(tanh w + 1) for another bounded {@link InputDomain}; x' = w for
 * unbounded data), it minimises with Adam
 *
 * <pre>
 * untargeted:       ‖x' − x‖₂² + c · max(z_y(x') − max_{j≠y} z_j(x') + κ, 0)
 * towards class t:  ‖x' − x‖₂² + c · max(max_{j≠t} z_j(x') − z_t(x') + κ, 0)
 * </pre>
 *
 * and a point counts as found, as in the authors' code, when argmax(z + κ e_y) ≠ y (untargeted) or argmax(z − κ e_t) = t
 * (towards t): misclassified with a margin of κ. The confidence κ ≥ 0 (default 0) asks for points the model gets wrong
 * with that margin, farther than the minimum distance (the authors' use: examples that transfer to other models).
 * With {@code targets} = k ≥ 1 it runs towards each of the k classes the model ranks highest after the true one, on
 * every example, and keeps the smallest point over all of them, as FAB-T does; {@link #attackTowards} runs towards
 * classes of the caller's choice.
 *
 * and searches the constant c per example by bisection: from c₀, down (halfway to the last failure) after a search step
 * that found an adversarial point, up (×10 until one succeeds, then halfway) after one that did not. Each search step
 * restarts Adam from the clean point, and stops early when the loss has not fallen by 0.01% over a tenth of its steps.
 * The smallest misclassified iterate over all search steps is kept: an upper bound on the minimum distance, never a
 * certificate. The authors' settings are 9 search steps, c₀ = 10⁻³, learning rate 0.01 and up to 10,000 steps per
 * search step; {@link #standard} takes the steps as the CLI's {@code --steps}.
 *
 * @param steps        Adam steps per search step
 * @param searchSteps  bisection steps of c
 * @param initialConst c₀
 * @param learningRate Adam's step size in w
 * @param confidence   κ ≥ 0
 * @param targets      0: untargeted; k: towards each of the k classes ranked highest after the true one
 */
public record CarliniWagner(int steps, int searchSteps, double initialConst, double learningRate, double confidence, int targets)
        implements Attack {

    /** c above this counts as "no success yet": the search multiplies c by 10 rather than bisecting. */
    private static final double NO_UPPER = 1e10;
    /** x in [0, 1] is mapped to tanh-space as atanh((2x − 1)·(1 − 1e-6)): the box's faces map to ±7.25, not ±∞. */
    private static final double SHRINK = 1 - 1e-6;

    public CarliniWagner {
        if (steps < 1) throw new IllegalArgumentException("Carlini–Wagner needs at least one step, got " + steps);
        if (searchSteps < 1) throw new IllegalArgumentException("Carlini–Wagner needs at least one search step, got " + searchSteps);
        if (!(initialConst > 0)) throw new IllegalArgumentException("Carlini–Wagner's initial constant must be positive, got " + initialConst);
        if (!(learningRate > 0)) throw new IllegalArgumentException("Carlini–Wagner's learning rate must be positive, got " + learningRate);
        if (!(confidence >= 0) || Double.isInfinite(confidence)) {
            throw new IllegalArgumentException("Carlini–Wagner's confidence κ must be finite and ≥ 0, got " + confidence);
        }
        if (targets < 0) throw new IllegalArgumentException("Carlini–Wagner's target count must be ≥ 0, got " + targets);
    }

    /** Untargeted, κ = 0. */
    public CarliniWagner(int steps, int searchSteps, double initialConst, double learningRate) {
        this(steps, searchSteps, initialConst, learningRate, 0, 0);
    }

    /** The authors' settings (9 search steps, c₀ = 10⁻³, learning rate 0.01) with {@code steps} Adam steps per search step. */
    public static CarliniWagner standard(int steps) {
        return new CarliniWagner(steps, 9, 1e-3, 0.01);
    }

    /** The same with confidence κ. */
    public CarliniWagner withConfidence(double kappa) {
        return new CarliniWagner(steps, searchSteps, initialConst, learningRate, kappa, targets);
    }

    /** The same, run towards each of the {@code k} classes ranked highest after the true one (0: untargeted). */
    public CarliniWagner withTargets(int k) {
        return new CarliniWagner(steps, searchSteps, initialConst, learningRate, confidence, k);
    }

    @Override public String name() { return targets > 0 ? "cw-t" : "cw"; }

    @Override public Norm norm() { return Norm.L2; }

    @Override
    public Result attack(Module model, Tensor x, Tensor y) {
        Attacks.checkInputs(x, y, name());
        if (targets == 0) return run(model, x, y, null);
        Tensor clean;
        try (Autograd.Guard g = Autograd.noGrad()) {
            clean = model.forward(x.detach());
        }
        int ranks = (int) Math.min(targets, clean.size(1) - 1);
        int[] all = Attacks.all(x.size(0));
        Result best = null;
        for (int rank = 1; rank <= ranks && (best == null || !Budget.exhausted()); rank++) {
            Result r = run(model, x, y, AttackLoss.rankedTarget(clean, y, rank));
            best = best == null ? r : Attacks.merge(best, all, r);   // every target on every example: keep the smaller point
        }
        return best;
    }

    /**
     * Runs towards {@code target[i]} ≠ y[i] for each example: success means argmax(z − κ e_t) = t at the point returned.
     */
    public Result attackTowards(Module model, Tensor x, Tensor y, Tensor target) {
        if (target.dtype() != DType.INT64) throw new IllegalArgumentException("Carlini–Wagner's target classes must be INT64, got " + target.dtype());
        long classes;
        try (Autograd.Guard g = Autograd.noGrad()) {
            classes = model.forward(x.detach()).size(1);
        }
        long[] t = target.toLongArray(), labels = y.toLongArray();
        for (int i = 0; i < t.length; i++) {
            if (t[i] < 0 || t[i] >= classes || t[i] == labels[i]) {
                throw new IllegalArgumentException("Carlini–Wagner's target for example " + i + " is " + t[i] + ": it must be a class of the "
                        + "model (0 to " + (classes - 1) + ") other than the label " + labels[i]);
            }
        }
        return run(model, x, y, target.to(x.device()));
    }

    private Result run(Module model, Tensor x, Tensor y, Tensor target) {
        Tensor x0 = x.detach();
        int n = (int) x0.size(0);
        Tracker tracker = new Tracker(Norm.L2, x0, y);
        InputDomain domain = InputDomain.current();
        boolean box = Double.isFinite(domain.lo()) && Double.isFinite(domain.hi());
        if (!box && domain.bounded()) throw new IllegalArgumentException("Carlini–Wagner needs a domain bounded on both sides or on neither, got " + domain);
        double width = box ? domain.hi() - domain.lo() : 1;
        Tensor start = box ? atanh(x0.sub(domain.lo()).mul(2 / width).sub(1).mul(SHRINK)) : x0;
        double[] c = new double[n], lower = new double[n], upper = new double[n];
        Arrays.fill(c, initialConst);
        Arrays.fill(upper, NO_UPPER);
        Tensor w = start.copy(), m = start.zerosLike(), v = start.zerosLike();
        Tensor succeeded = Tensor.zeros(DType.BOOL, x0.device(), n);
        int checkEvery = Math.max(1, steps / 10);   // the authors' early stop looks at the loss every tenth of the steps
        for (int search = 0; search < searchSteps && !Budget.exhausted(); search++) {
            w.copy_(start);
            m.zero_();
            v.zero_();
            succeeded.zero_();
            Tensor constant = Tensor.fromDoubles(c, n).to(x0.device(), x0.dtype());
            double previous = Double.POSITIVE_INFINITY;
            for (int k = 1; k <= steps; k++) {
                try (Scope it = Scope.open()) {
                    Tensor wk = w.detach().requiresGrad(true);
                    Tensor xk = box ? wk.tanh().add(1).mul(0.5 * width).add(domain.lo()) : wk;
                    Tensor logits = model.forward(xk);
                    Tensor found = found(logits.detach(), y, target);
                    tracker.offerWhere(xk, found);
                    succeeded.copy_(succeeded.logicalOr(found));
                    Tensor distance = xk.sub(x0).square().flatten(1, -1).sum(1, false);
                    Tensor shortfall = shortfall(logits, y, target).add(confidence).clampMin(0);
                    Tensor loss = distance.add(shortfall.mul(constant)).sum();
                    Tensor g = Autograd.grad(List.of(loss), List.of(wk), null, false, false).get(0);
                    Adam.step(w, m, v, g, k, learningRate, 0.9, 0.999, 1e-8);   // each example's coordinates move on their own
                    if (k % checkEvery == 0) {   // one host read of the loss
                        double now = loss.item();
                        if (now > previous * 0.9999) break;
                        previous = now;
                    }
                    if (Budget.exhausted()) break;
                }
            }
            boolean[] found = succeeded.toBooleanArray();
            for (int i = 0; i < n; i++) {
                if (found[i]) {
                    upper[i] = Math.min(upper[i], c[i]);
                    c[i] = (lower[i] + upper[i]) / 2;
                } else {
                    lower[i] = Math.max(lower[i], c[i]);
                    c[i] = upper[i] < NO_UPPER ? (lower[i] + upper[i]) / 2 : c[i] * 10;
                }
            }
        }
        return tracker.result();
    }

    /** How far from success: z_y − max_{j≠y} z_j untargeted, max_{j≠t} z_j − z_t towards t; per example. */
    private static Tensor shortfall(Tensor logits, Tensor y, Tensor target) {
        return target == null ? AttackLoss.trueLogit(logits, y).sub(AttackLoss.bestOther(logits, y))
                : AttackLoss.bestOther(logits, target).sub(AttackLoss.trueLogit(logits, target));
    }

    /** The authors' test: argmax(z + κ e_y) ≠ y untargeted, argmax(z − κ e_t) = t towards t. */
    private Tensor found(Tensor logits, Tensor y, Tensor target) {
        if (target == null) {
            return (confidence == 0 ? logits : logits.add(y.oneHot(logits.size(1)).to(logits.dtype()).mul(confidence))).argmax(1).ne(y);
        }
        return (confidence == 0 ? logits : logits.sub(target.oneHot(logits.size(1)).to(logits.dtype()).mul(confidence))).argmax(1).eq(target);
    }

    /** atanh z = ½ log((1 + z) / (1 − z)), for |z| &lt; 1. */
    private static Tensor atanh(Tensor z) {
        return z.add(1).div(z.neg().add(1)).log().mul(0.5);
    }
}
