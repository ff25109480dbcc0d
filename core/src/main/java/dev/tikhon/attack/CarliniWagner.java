package dev.tikhon.attack;

import dev.tikhon.engine.Autograd;
import dev.tikhon.engine.DType;
import dev.tikhon.engine.Scope;
import dev.tikhon.engine.Tensor;
import dev.tikhon.nn.Module;

import java.util.Arrays;
import java.util.List;

/**
 * The Carlini–Wagner ℓ2 attack (Carlini &amp; Wagner, "Towards evaluating the robustness of neural networks", IEEE S&amp;P
 * 2017), untargeted, confidence κ = 0: a minimum-distance attack. In the change of variables x' = ½(tanh w + 1), which
 * keeps x' in the [0, 1] box without clipping, it minimises with Adam
 *
 * <pre>
 * ‖x' − x‖₂² + c · max(z_y(x') − max_{j≠y} z_j(x'), 0)
 * </pre>
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
 */
public record CarliniWagner(int steps, int searchSteps, double initialConst, double learningRate) implements Attack {

    /** c above this counts as "no success yet": the search multiplies c by 10 rather than bisecting. */
    private static final double NO_UPPER = 1e10;
    /** x in [0, 1] is mapped to tanh-space as atanh((2x − 1)·(1 − 1e-6)): the box's faces map to ±7.25, not ±∞. */
    private static final double SHRINK = 1 - 1e-6;

    public CarliniWagner {
        if (steps < 1) throw new IllegalArgumentException("Carlini–Wagner needs at least one step, got " + steps);
        if (searchSteps < 1) throw new IllegalArgumentException("Carlini–Wagner needs at least one search step, got " + searchSteps);
        if (!(initialConst > 0)) throw new IllegalArgumentException("Carlini–Wagner's initial constant must be positive, got " + initialConst);
        if (!(learningRate > 0)) throw new IllegalArgumentException("Carlini–Wagner's learning rate must be positive, got " + learningRate);
    }

    /** The authors' settings (9 search steps, c₀ = 10⁻³, learning rate 0.01) with {@code steps} Adam steps per search step. */
    public static CarliniWagner standard(int steps) {
        return new CarliniWagner(steps, 9, 1e-3, 0.01);
    }

    @Override public String name() { return "cw"; }

    @Override public Norm norm() { return Norm.L2; }

    @Override
    public Result attack(Module model, Tensor x, Tensor y) {
        Tensor x0 = x.detach();
        int n = (int) x0.size(0);
        Tracker tracker = new Tracker(Norm.L2, x0, y);
        Tensor start = atanh(x0.mul(2).sub(1).mul(SHRINK));
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
                    Tensor xk = wk.tanh().add(1).mul(0.5);
                    Tensor logits = model.forward(xk);
                    tracker.offer(xk, logits);
                    succeeded.copy_(succeeded.logicalOr(logits.detach().argmax(1).ne(y)));
                    Tensor distance = xk.sub(x0).square().flatten(1, -1).sum(1, false);
                    Tensor margin = AttackLoss.MARGIN.perExample(logits, y).neg().clampMin(0);
                    Tensor loss = distance.add(margin.mul(constant)).sum();
                    Tensor g = Autograd.grad(List.of(loss), List.of(wk), null, false, false).get(0);
                    adamStep(w, m, v, g, k);
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

    /** Adam (β = 0.9, 0.999, ε = 10⁻⁸) on w, step k ≥ 1, in place: each example's coordinates move on their own. */
    private void adamStep(Tensor w, Tensor m, Tensor v, Tensor g, int k) {
        m.mul_(0.9).add_(g, 0.1);
        v.mul_(0.999).addcmul_(g, g, 0.001);
        Tensor denominator = v.sqrt().div_(Math.sqrt(1 - Math.pow(0.999, k))).add_(1e-8);
        w.addcdiv_(m, denominator, -learningRate / (1 - Math.pow(0.9, k)));
    }

    /** atanh z = ½ log((1 + z) / (1 − z)), for |z| &lt; 1. */
    private static Tensor atanh(Tensor z) {
        return z.add(1).div(z.neg().add(1)).log().mul(0.5);
    }
}
