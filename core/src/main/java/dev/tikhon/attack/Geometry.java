package dev.tikhon.attack;

import dev.tikhon.engine.Tensor;

/** The threat model's geometry: steepest-ascent directions, projections onto ball ∩ box, random starts, distances. */
final class Geometry {
    private Geometry() {}

    /** Unit steepest-ascent direction for the norm: sign(g) for ℓ∞, g/‖g‖₂ for ℓ2 (0 where g = 0). */
    static Tensor direction(Norm norm, Tensor g) {
        return norm == Norm.LINF ? g.sign() : g.div(Pgd.perExample(g.normPerExample(2), g).clampMin(1e-12));
    }

    /** Projects a candidate onto the ε-ball around x intersected with the [0, 1] box. ε is a scalar or per example [N]. */
    static Tensor project(Norm norm, Tensor x, Tensor candidate, Tensor eps) {
        Tensor delta = candidate.sub(x);
        Tensor e = Pgd.perExample(eps, x);
        if (norm == Norm.LINF) {
            delta = Tensor.where(delta.gt(e), e, Tensor.where(delta.lt(e.neg()), e.neg(), delta));
        } else {
            Tensor n = Pgd.perExample(delta.normPerExample(2), delta);
            delta = delta.mul(e.div(n.maximum(e).clampMin(1e-12)));   // scale by min(1, ε/‖δ‖)
        }
        // Clipping to the box only shrinks |δᵢ| coordinate by coordinate, so the result stays in the ball.
        return x.add(delta).clamp(0, 1);
    }

    /** A point drawn uniformly from the ε-ball around x (then clipped to the box). */
    static Tensor randomStart(Norm norm, Tensor x, Tensor eps) {
        Tensor e = Pgd.perExample(eps, x);
        Tensor delta;
        if (norm == Norm.LINF) {
            delta = x.randLike().mul(2).sub(1).mul(e);
        } else {
            Tensor dir = x.randnLike();
            dir = dir.div(Pgd.perExample(dir.normPerExample(2), dir).clampMin(1e-12));
            long n = x.numel() / x.size(0);
            Tensor u = Tensor.rand(x.dtype(), x.device(), x.size(0)).pow(1.0 / n);   // radius ε·U^{1/n}: uniform in the ball
            delta = dir.mul(Pgd.perExample(u, x)).mul(e);
        }
        return x.add(delta).clamp(0, 1);
    }

    /** Per-example ‖a − b‖ in the norm, shape [N]. */
    static Tensor distance(Norm norm, Tensor a, Tensor b) {
        return a.sub(b).normPerExample(norm.p());
    }

    /** ε as a per-example tensor of x's dtype. */
    static Tensor epsTensor(double eps, Tensor x) {
        return Tensor.full(eps, x.dtype(), x.device(), x.size(0));
    }
}
