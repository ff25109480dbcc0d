package dev.tikhon.attack;

import dev.tikhon.engine.Tensor;

/** The threat model's geometry: steepest-ascent directions and distances. The feasible set itself is a {@link Region}. */
final class Geometry {
    private Geometry() {}

    /** Unit steepest-ascent direction for the norm: sign(g) for ℓ∞, g/‖g‖₂ for ℓ2 (0 where g = 0). */
    static Tensor direction(Norm norm, Tensor g) {
        return norm == Norm.LINF ? g.sign() : g.div(Pgd.perExample(g.normPerExample(2), g).clampMin(1e-12));
    }

    /** Per-example ‖a − b‖ in the norm, shape [N]. */
    static Tensor distance(Norm norm, Tensor a, Tensor b) {
        return a.sub(b).normPerExample(norm.p());
    }
}
