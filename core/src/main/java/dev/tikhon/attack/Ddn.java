package dev.tikhon.attack;

import dev.tikhon.engine.Autograd;
import dev.tikhon.engine.Ops;
import dev.tikhon.engine.Scope;
import dev.tikhon.engine.Tensor;
import dev.tikhon.nn.Module;

import java.util.List;

/**
 * Decoupled Direction and Norm (Rony et al., CVPR 2019): a minimum-distance ℓ2 attack. It steps along
 * the normalized cross-entropy gradient and, separately, keeps the perturbation on a sphere whose
 * radius shrinks by a factor (1 − γ) while the point is adversarial and grows by (1 + γ) while it is
 * not, so the radius settles at the decision boundary:
 *
 * <pre>
 * δ ← δ + αₖ g/‖g‖,   αₖ cosine-annealed from α to α/100
 * r ← (1 − γ) r if x + δ is adversarial, else (1 + γ) r
 * δ ← r δ/‖δ‖, then clipped so that x + δ stays in the input domain ([0, 1] for images)
 * </pre>
 *
 * The smallest adversarial δ seen is then refined by bisection along its own ray (the segment from x
 * to x + δ stays in the box), which removes most of the ±γ granularity of the radius search.
 *
 * @param initNorm  starting radius r₀
 * @param bisection refinement steps; 0 turns refinement off
 */
public record Ddn(int steps, double initNorm, double gamma, double stepSize, int bisection) implements Attack {

    public Ddn {
        if (steps < 1) throw new IllegalArgumentException("DDN needs at least one step, got " + steps);
        if (!(gamma > 0 && gamma < 1)) throw new IllegalArgumentException("DDN γ must be in (0, 1), got " + gamma);
        if (!(initNorm > 0)) throw new IllegalArgumentException("DDN initial norm must be positive, got " + initNorm);
    }

    /** Rony et al.'s settings (γ = 0.05, α = 1, r₀ = 1) with the given number of steps and 12 bisection steps. */
    public static Ddn standard(int steps) {
        return new Ddn(steps, 1.0, 0.05, 1.0, 12);
    }

    @Override public String name() { return "ddn"; }

    @Override public Norm norm() { return Norm.L2; }

    @Override
    public Result attack(Module model, Tensor x, Tensor y) {
        Attacks.checkInputs(x, y, name());
        Tensor x0 = x.detach();
        long n = x0.size(0);
        Tracker tracker = new Tracker(Norm.L2, x0, y);
        Tensor delta = x0.zerosLike();
        InputDomain domain = InputDomain.current();
        Tensor radius = Tensor.full(initNorm, x0.dtype(), x0.device(), n);
        for (int k = 0; k <= steps; k++) {
            try (Scope it = Scope.open()) {
                Tensor xk = x0.add(delta).requiresGrad(k < steps);
                Tensor logits = model.forward(xk);
                tracker.offer(xk, logits);
                if (k == steps || Budget.exhausted()) break;
                Tensor adversarial = logits.detach().argmax(1).ne(y);
                Tensor g = Autograd.grad(List.of(Ops.crossEntropyPerExample(logits, y).sum()), List.of(xk), null, false, false).get(0);
                double alpha = stepSize * (0.01 + 0.99 * 0.5 * (1 + Math.cos(Math.PI * k / steps)));
                Tensor moved = delta.add(Geometry.direction(Norm.L2, g), alpha);
                radius.copy_(Tensor.where(adversarial, radius.mul(1 - gamma), radius.mul(1 + gamma)));
                Tensor norms = Pgd.perExample(moved.normPerExample(2).clampMin(1e-12), moved);
                Tensor onSphere = moved.mul(Pgd.perExample(radius, moved).div(norms));
                delta.copy_(domain.clamp_(x0.add(onSphere)).sub(x0));
            }
        }
        Result found = tracker.result();
        return Attacks.refine(model, Norm.L2, x0, y, found, bisection);
    }
}
