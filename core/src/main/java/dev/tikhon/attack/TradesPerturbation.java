package dev.tikhon.attack;

import dev.tikhon.engine.Autograd;
import dev.tikhon.engine.Scope;
import dev.tikhon.engine.Tensor;
import dev.tikhon.nn.Module;

import java.util.List;

/**
 * TRADES's inner maximization (Zhang et al., "Theoretically principled trade-off between robustness and accuracy",
 * ICML 2019): the point of the ε-ball around x, within the [0, 1] box, where the model's output distribution moves
 * furthest from its distribution at x,
 *
 * <pre>
 * x' ≈ argmax_{x' ∈ B(x, ε) ∩ [0,1]} KL(softmax f(x) ‖ softmax f(x'))
 * </pre>
 *
 * by projected steepest ascent ({@link Pgd}'s steps and projections) from x + 0.001·N(0, I), as the authors' code
 * starts: at x' = x the divergence is at its minimum and its gradient zero, so the ascent needs a nudge off x. The
 * labels are not used. The start is not projected, as in the authors' code; every step is.
 *
 * @param stepSize α per step
 */
public record TradesPerturbation(Norm norm, double eps, int steps, double stepSize) implements Perturbation {
    /** The standard deviation of the start's offset from x. */
    public static final double START_SCALE = 0.001;

    public TradesPerturbation {
        if (!(eps >= 0)) throw new IllegalArgumentException("--eps must be ≥ 0, got " + eps);
        if (steps < 1) throw new IllegalArgumentException("TRADES needs at least one ascent step, got " + steps);
        if (!(stepSize > 0) && eps > 0) throw new IllegalArgumentException("TRADES's step size must be positive, got " + stepSize);
    }

    @Override public Tensor perturb(Module model, Tensor x, Tensor y) {
        return ascend(model, x, x.detach().add(x.randnLike(), START_SCALE));
    }

    /** The ascent from {@code start} (a point near x): detached, in the region. Deterministic given the start. */
    public Tensor ascend(Module model, Tensor x, Tensor start) {
        Region region = new Region(norm, x, eps);
        Tensor clean = klTarget(model, region.x);
        Tensor adv = start.detach().copy();   // stepped in place
        for (int k = 0; k < steps; k++) {
            try (Scope it = Scope.open()) {
                Tensor xk = adv.detach().requiresGrad(true);
                Tensor divergence = klDivergence(clean, model.forward(xk).logSoftmax(1)).sum();
                Tensor g = Autograd.grad(List.of(divergence), List.of(xk), null, false, false).get(0);
                region.ascend_(adv, g, stepSize);
            }
        }
        return adv;
    }

    /** log softmax f(x), detached: the fixed first argument of the divergence during the ascent. */
    private static Tensor klTarget(Module model, Tensor x) {
        return model.forward(x).detach().logSoftmax(1);
    }

    /**
     * KL(p ‖ q) per example, [N], from log-probabilities [N, K]: Σₖ pₖ (log pₖ − log qₖ). Both arguments carry their
     * graphs, so the divergence differentiates in p and in q (TRADES's training loss does both).
     */
    public static Tensor klDivergence(Tensor logP, Tensor logQ) {
        return logP.exp().mul(logP.sub(logQ)).sum(1, false);
    }

    @Override public String describe() {
        return "KL ascent " + steps + " steps (" + norm + ", ε " + eps + ", step " + stepSize + ")";
    }
}
