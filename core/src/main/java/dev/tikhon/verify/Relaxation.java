package dev.tikhon.verify;

import dev.tikhon.UserError;
import dev.tikhon.engine.Tensor;
import dev.tikhon.nn.Activation;

/**
 * Linear bounds on a scalar activation σ over its input interval [l, u], elementwise:
 * {@code lowerSlope·z + lowerIntercept ≤ σ(z) ≤ upperSlope·z + upperIntercept} for every z in [l, u].
 *
 * <p>ReLU (Zhang et al. 2018, CROWN): where l ≥ 0 the neuron is the identity and where u ≤ 0 it is zero, both
 * exact. Where l &lt; 0 &lt; u the upper line is the chord through (l, 0) and (u, u): slope u/(u − l), intercept
 * −lu/(u − l). The lower line is αz for any α in [0, 1]; the adaptive choice takes α = 1 when u ≥ −l and 0
 * otherwise, the one of the two with the smaller area between line and function.
 *
 * <p>Convex activations (the smooth ReLU of {@link Activation#smoothRelu}, softplus): the chord from (l, σ(l)) to (u, σ(u)) lies
 * above σ on [l, u] and every tangent lies below it; we take the tangent at the midpoint. For intervals
 * narrower than 1e-6 the constants σ(l) and σ(u) bound σ (it is non-decreasing) without the cancellation a
 * chord of a tiny interval would suffer. The identity is exact. tanh and sigmoid are convex below 0 and concave above:
 * their lines are {@link Pointwise}'s (CROWN's chord and midpoint tangent inside one piece, the same slopes moved until
 * they hold on both pieces where [l, u] contains 0), as are the imported activations'.
 */
record Relaxation(Tensor lowerSlope, Tensor lowerIntercept, Tensor upperSlope, Tensor upperIntercept, boolean lowerThroughOrigin,
                  boolean slopePerSpec, boolean linesPerSpec) {

    /** {@code slopePerSpec}: the lower slope is [N, S, …] (ReLU's α), the rest [N, …]; {@code linesPerSpec}: all four are [N, S, …]. */
    Relaxation(Tensor lowerSlope, Tensor lowerIntercept, Tensor upperSlope, Tensor upperIntercept, boolean lowerThroughOrigin,
               boolean slopePerSpec) {
        this(lowerSlope, lowerIntercept, upperSlope, upperIntercept, lowerThroughOrigin, slopePerSpec, false);
    }

    Relaxation(Tensor lowerSlope, Tensor lowerIntercept, Tensor upperSlope, Tensor upperIntercept, boolean lowerThroughOrigin) {
        this(lowerSlope, lowerIntercept, upperSlope, upperIntercept, lowerThroughOrigin, false);
    }

    /**
     * max(|lower slope|·ẑ + |lower intercept|, |upper slope|·ẑ + |upper intercept|) per unit, ẑ [N, …] the magnitude of the
     * input bounds: what a line's value, its products and its rounding scale with ({@link Rounding}). [N, S or 1, …].
     */
    Tensor magnitude(Tensor zHat) {
        Tensor z = Layers.rows(zHat);
        return perRow(lowerSlope).abs().mul(z).add(perRow(lowerIntercept).abs())
                .maximum(perRow(upperSlope).abs().mul(z).add(perRow(upperIntercept).abs()));
    }

    /** A line's tensor with the specification rows' axis: [N, S, …] as it is, [N, …] as [N, 1, …]. */
    private Tensor perRow(Tensor t) {
        boolean rows = linesPerSpec || slopePerSpec && t == lowerSlope;
        return rows ? t : Layers.rows(t);
    }

    private static final double NARROW = 1e-6;

    static Relaxation of(Activation.Kind kind, Interval pre, LowerSlope alpha) {
        // The bounds come from convolutions that may run channels-last; the coefficients they multiply are plain
        // row-major [N, S, C, H, W]: one layout for both keeps the elementwise products on their fast path.
        Tensor l = pre.lo().contiguous(), u = pre.hi().contiguous();
        switch (kind) {
            case RELU: return relu(l, u, alpha);
            case SMOOTH_RELU: return convex(l, u, Activation::smoothRelu, Relaxation::smoothReluSlope);
            case SOFTPLUS: return convex(l, u, z -> z.softplus(1, 20), Tensor::sigmoid);
            case TANH: case SIGMOID: return Pointwise.of(kind).relaxation(new Interval(l, u));
            default: throw new UserError("CROWN has no linear relaxation of the " + kind.name().toLowerCase() + " activation: "
                    + "use --method ibp, or a model with relu, smooth-relu, softplus, tanh or sigmoid activations");
        }
    }

    static Relaxation relu(Tensor l, Tensor u, LowerSlope alpha) {
        return relu(l, u, alpha, null);
    }

    /**
     * ReLU with the unstable units' lower slopes given per specification row, {@code slopes} of shape [N, S, …] with
     * values in [0, 1] (α-CROWN's optimized slopes); null: {@code alpha}'s rule for every row.
     */
    static Relaxation relu(Tensor l, Tensor u, LowerSlope alpha, Tensor slopes) {
        Tensor unstable = l.lt(0).logicalAnd(u.gt(0));
        Tensor active = l.ge(0);
        Tensor one = l.onesLike(), zero = l.zerosLike();
        Tensor width = Tensor.where(unstable, u.sub(l), one);   // a safe denominator: no 0/0 even in gradients
        Tensor chord = u.div(width);
        Tensor upperSlope = Tensor.where(unstable, chord, Tensor.where(active, one, zero));
        Tensor upperIntercept = Tensor.where(unstable, chord.mul(l).neg(), zero);
        Tensor a;
        switch (alpha) {
            case ZERO: a = zero; break;
            case ONE: a = one; break;
            default: a = l.neg().le(u).to(l.dtype());
        }
        if (slopes != null) {
            Tensor lowerSlope = Tensor.where(Layers.rows(unstable), slopes, Layers.rows(Tensor.where(active, one, zero)));
            return new Relaxation(lowerSlope, zero, upperSlope, upperIntercept, true, true);
        }
        Tensor lowerSlope = Tensor.where(unstable, a, Tensor.where(active, one, zero));
        return new Relaxation(lowerSlope, zero, upperSlope, upperIntercept, true);
    }

    static Relaxation convex(Tensor l, Tensor u, java.util.function.UnaryOperator<Tensor> f,
                             java.util.function.UnaryOperator<Tensor> slope) {
        Tensor fl = f.apply(l), fu = f.apply(u);
        Tensor wide = u.sub(l).gt(NARROW);
        Tensor zero = l.zerosLike();
        Tensor width = Tensor.where(wide, u.sub(l), l.onesLike());
        Tensor chord = fu.sub(fl).div(width);
        Tensor upperSlope = Tensor.where(wide, chord, zero);
        Tensor upperIntercept = Tensor.where(wide, fl.sub(chord.mul(l)), fu);
        Tensor mid = l.add(u).mul(0.5);
        Tensor tangent = slope.apply(mid);
        Tensor lowerSlope = Tensor.where(wide, tangent, zero);
        Tensor lowerIntercept = Tensor.where(wide, f.apply(mid).sub(tangent.mul(mid)), fl);
        return new Relaxation(lowerSlope, lowerIntercept, upperSlope, upperIntercept, false);
    }

    /**
     * CROWN's step back through these lines: for coefficients A [N, S, …] on σ(z), A·σ(z) ≥ A'·z + c with
     * A' = A⁺·lowerSlope + A⁻·upperSlope (the lower line where a coefficient is ≥ 0, the upper where it is &lt; 0).
     * Computed as A·(per-element choice of slope), so that A's size (S times an activation's, 189 MB for the small
     * CNN at batch 128) is allocated once rather than for each of A⁺, A⁻ and their products; the result is the
     * same number.
     */
    Tensor coefficients(Tensor a) {
        if (linesPerSpec) return a.mul(Tensor.where(a.ge(0), lowerSlope, upperSlope));
        return a.mul(Tensor.where(a.ge(0), slopePerSpec ? lowerSlope : Layers.rows(lowerSlope), Layers.rows(upperSlope)));
    }

    /**
     * The constant c = Σ A⁺·lowerIntercept + A⁻·upperIntercept over the units, [N, S], as batched dot products; the first
     * term is left out where the lower line passes through the origin (ReLU).
     */
    Tensor constants(Tensor a) {
        if (linesPerSpec) return Trace.sumTail(a.clampMax(0).mul(upperIntercept).add(a.clampMin(0).mul(lowerIntercept)));
        Tensor c = dot(a.clampMax(0), upperIntercept);
        return lowerThroughOrigin ? c : c.add(dot(a.clampMin(0), lowerIntercept));
    }

    /** Σ over the units of a [N, S, …] times v [N, …]: [N, S], one batched matrix product per example. */
    private static Tensor dot(Tensor a, Tensor v) {
        long n = a.size(0), s = a.size(1);
        return a.reshape(n, s, -1).matmul(v.reshape(n, -1, 1)).squeeze(2);
    }

    /** The derivative of the smooth ReLU: 0 below −½, 1 above ½, and v²(3 − 2v) with v = z + ½ between. */
    static Tensor smoothReluSlope(Tensor z) {
        Tensor v = z.add(0.5);
        Tensor inner = v.square().mul(v.mul(-2).add(3));
        return Tensor.where(z.abs().lt(0.5), inner, z.gt(0).to(z.dtype()));
    }
}
