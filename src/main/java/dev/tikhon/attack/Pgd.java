package dev.tikhon.attack;

import dev.tikhon.engine.Autograd;
import dev.tikhon.engine.Ops;
import dev.tikhon.engine.Tensor;
import dev.tikhon.nn.Module;

import java.util.List;

/**
 * Projected gradient descent on the cross-entropy (Madry et al.), in ℓ∞ or ℓ2, inside the ε-ball
 * around x and the [0, 1] box of valid images. FGSM is the one-step case: no random start,
 * step ε, ℓ∞. Only the input is differentiated: parameter gradients are left untouched, so PGD
 * can run inside a training step.
 *
 * <pre>
 * ℓ∞: x ← clip_[x−ε, x+ε] ∩ [0,1] (x + α sign ∇ₓℓ)
 * ℓ2: x ← clip_[0,1] (Π_{‖δ‖₂≤ε} (x + α ∇ₓℓ / ‖∇ₓℓ‖₂))
 * </pre>
 *
 * @param stepSize    α; {@link #madry} uses 2.5 ε / steps
 * @param randomStart start from a uniform point of the ε-ball (clipped to the box) instead of x
 */
public record Pgd(Norm norm, double eps, int steps, double stepSize, boolean randomStart) {

    public Pgd {
        if (!(eps >= 0)) throw new IllegalArgumentException("--eps must be ≥ 0, got " + eps);
        if (steps < 1) throw new IllegalArgumentException("PGD needs at least one step, got " + steps);
        if (!(stepSize > 0) && eps > 0) throw new IllegalArgumentException("PGD step size must be positive, got " + stepSize);
    }

    /** Madry et al.'s recipe: step 2.5 ε / K, random start. */
    public static Pgd madry(Norm norm, double eps, int steps) {
        return new Pgd(norm, eps, steps, 2.5 * eps / steps, true);
    }

    /** Fast gradient sign method (Goodfellow et al.): one ℓ∞ step of size ε from x. */
    public static Pgd fgsm(double eps) {
        return new Pgd(Norm.LINF, eps, 1, eps, false);
    }

    /** The adversarial batch, detached. The model's mode (train or eval) is the caller's choice. */
    public Tensor perturb(Module model, Tensor x, Tensor y) {
        Tensor x0 = x.detach();
        Tensor adv = randomStart ? project(x0, x0.add(randomDelta(x0))) : x0;
        for (int k = 0; k < steps; k++) {
            Tensor xk = adv.detach().requiresGrad(true);
            Tensor loss = Ops.crossEntropyPerExample(model.forward(xk), y).sum();
            Tensor g = Autograd.grad(List.of(loss), List.of(xk), null, false, false).get(0);
            Tensor step = norm == Norm.LINF ? g.sign() : g.div(perExample(g.normPerExample(2), g).clampMin(1e-12));
            adv = project(x0, xk.detach().add(step, stepSize));
        }
        return adv.detach();
    }

    /** Projects a candidate onto the ε-ball around x intersected with the [0, 1] box. */
    Tensor project(Tensor x, Tensor candidate) {
        Tensor delta = candidate.sub(x);
        if (norm == Norm.LINF) {
            delta = delta.clamp(-eps, eps);
        } else {
            Tensor n = perExample(delta.normPerExample(2), delta);
            delta = delta.mul(n.clampMin(Math.max(eps, 1e-12)).reciprocal().mul(eps));   // scale by min(1, ε/‖δ‖); ε = 0 gives δ = 0
        }
        // Clipping to the box only shrinks |δᵢ| coordinate by coordinate, so the result stays in the ball.
        return x.add(delta).clamp(0, 1);
    }

    private Tensor randomDelta(Tensor x) {
        if (norm == Norm.LINF) return x.randLike().mul(2 * eps).sub(eps);
        Tensor dir = x.randnLike();
        dir = dir.div(perExample(dir.normPerExample(2), dir).clampMin(1e-12));
        long n = x.numel() / x.size(0);
        // radius ε·U^{1/n}: uniform in the ball
        Tensor u = Tensor.rand(x.dtype(), x.device(), x.size(0)).pow(1.0 / n).mul(eps);
        return dir.mul(perExample(u, x));
    }

    /** Reshapes a per-example vector [N] to [N, 1, …, 1] so that it broadcasts against {@code like}. */
    public static Tensor perExample(Tensor v, Tensor like) {
        long[] shape = new long[like.dim()];
        java.util.Arrays.fill(shape, 1);
        shape[0] = like.size(0);
        return v.reshape(shape);
    }

    public String describe() {
        return (steps == 1 && !randomStart && stepSize == eps && norm == Norm.LINF) ? "FGSM(ε " + eps + ")"
                : "PGD-" + steps + "(" + norm + ", ε " + eps + ", step " + stepSize + (randomStart ? ", random start" : "") + ")";
    }
}
