package dev.tikhon.attack;

import dev.tikhon.engine.Tensor;

/**
 * Where an attack may move: the ε-ball around x in the threat model's norm, intersected with the input domain in force
 * ({@link InputDomain}: the [0, 1] box of valid images, or nothing for unbounded data). Built once per attack run,
 * outside the iteration scopes. In ℓ∞ the intersection is itself a box, [max(x − ε, 0), min(x + ε, 1)] per coordinate
 * for images, so a projection is one clamp and a step of PGD three operations
 * (sign, add, clamp) instead of a dozen: on a GPU, where a small model's iteration is bound by how fast the host issues
 * kernels, that count is the cost.
 */
final class Region {
    final Norm norm;
    final Tensor x;
    final InputDomain domain = InputDomain.current();
    /** ε per example, shaped [N, 1, …, 1] to broadcast against x. */
    private final Tensor eps;
    /** ℓ∞ only: the box's bounds per coordinate. */
    private final Tensor lo, hi;

    /** The region around x with radius {@code eps} for every example. */
    Region(Norm norm, Tensor x, double eps) {
        this(norm, x, Tensor.full(eps, x.dtype(), x.device(), x.size(0)));
    }

    /** The region around x with radius {@code eps[i]} for example i ({@code eps} of shape [N]). */
    Region(Norm norm, Tensor x, Tensor eps) {
        this.norm = norm;
        this.x = x.detach();
        this.eps = Pgd.perExample(eps, x);
        boolean linf = norm == Norm.LINF;
        this.lo = linf ? domain.clamp(this.x.sub(this.eps)) : null;
        this.hi = linf ? domain.clamp(this.x.add(this.eps)) : null;
    }

    /** The nearest point of the region to {@code candidate} (in the norm's own projection), as a new tensor. */
    Tensor project(Tensor candidate) {
        return project_(candidate.copy());
    }

    /**
     * Projects {@code point} onto the region in place; returns it. ℓ∞: clamp to [lo, hi]. ℓ2: scale δ = point − x by
     * min(1, ε/‖δ‖₂), then clip to the domain, which only shrinks each |δᵢ| and so stays in the ball.
     */
    Tensor project_(Tensor point) {
        if (norm == Norm.LINF) return point.clamp_(lo, hi);
        Tensor delta = point.sub_(x);
        Tensor n = Pgd.perExample(delta.normPerExample(2), delta);
        return domain.clamp_(delta.mul_(eps.div(n.maximum(eps).clampMin(1e-12))).add_(x));
    }

    /** One steepest-ascent step of size α along g, in place on {@code point}, then back onto the region; returns it. */
    Tensor ascend_(Tensor point, Tensor g, double alpha) {
        return project_(point.add_(Geometry.direction(norm, g), alpha));
    }

    /** A point drawn uniformly from the ε-ball around x, then clipped to the domain: a new tensor. */
    Tensor randomStart() {
        Tensor delta;
        if (norm == Norm.LINF) {
            delta = x.randLike().mul(2).sub(1).mul(eps);
        } else {
            Tensor dir = x.randnLike();
            dir = dir.div(Pgd.perExample(dir.normPerExample(2), dir).clampMin(1e-12));
            long n = x.numel() / x.size(0);
            Tensor u = Tensor.rand(x.dtype(), x.device(), x.size(0)).pow(1.0 / n);   // radius ε·U^{1/n}: uniform in the ball
            delta = dir.mul(Pgd.perExample(u, x)).mul(eps);
        }
        return domain.clamp_(x.add(delta));
    }

    /** ε per example, [N, 1, …, 1]. */
    Tensor eps() {
        return eps;
    }
}
