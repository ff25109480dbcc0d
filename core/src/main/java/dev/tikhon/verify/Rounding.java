package dev.tikhon.verify;

import dev.tikhon.UserError;
import dev.tikhon.engine.DType;
import dev.tikhon.engine.Ops;
import dev.tikhon.engine.Tensor;
import dev.tikhon.nn.Activation;

import java.util.function.Supplier;

/**
 * Bounds that also hold under the floating-point rounding of their own computation. Without it (the default, as
 * auto_LiRPA) IBP and CROWN compute with round-to-nearest and their bounds hold up to that rounding: a margin whose terms
 * cancel can come out positive where the exact one is negative (Jia and Rinard, "Exploiting verified neural networks via
 * floating point numerical error", SAS 2021). Inside {@link #accounted}, every node's rounding error is bounded a priori
 * and added to the bounds, so that they hold for the network's exact, real-arithmetic function of its stored weights:
 *
 * <ul>
 *   <li>A dot product of n terms computed in any order, with or without fused multiply-adds, is within γₙ·Σ|xᵢyᵢ| of the exact
 *   one, γₙ = nu/(1 − nu), u the unit roundoff (Higham, "Accuracy and stability of numerical algorithms", 2002, §3.1). An
 *   affine node's output (and its centre/radius arithmetic) is therefore within γ·(|W| ẑ + |b|) of the exact one, ẑ the
 *   largest magnitude its input can take (from sound intermediate bounds); that term is computed by the node's own interval
 *   rule on [−ẑ, ẑ], whose output is exactly b ± |W| ẑ. IBP widens the node's output box by it; a backward walk that meets
 *   the node with coefficients A subtracts γ·Σ|A|·(|W| ẑ + |b|), the bound on A's product with W and b computed inexactly
 *   (A W z differs from the computed (AW) z by at most that, whatever the rounded AW is).</li>
 *   <li>Activations: IBP widens by 2κu·max(|lo|, |hi|), κ = {@value #KAPPA} ulps allowed each elementary function (the math
 *   libraries claim at most 4); CROWN's relaxation lines, computed from rounded endpoints, hold up to κu·(|s| ẑ + |t|), and
 *   their products with A and sums over units to γ of the same; ReLU, max pooling, reshapes and transposes are exact in IBP.</li>
 *   <li>The input box, the sum of the walk's constants and the final minimization over the region get their own terms.</li>
 * </ul>
 *
 * <p>Every term is taken with n the larger of a node's input and output sizes per example plus {@value #KAPPA} and doubled
 * (γ := 2(n + κ)u), which leaves room for the rounding of the corrections themselves; an absolute {@link #TINY} covers
 * underflow. In float64 the terms are about 10⁻¹² of the magnitudes, so accounting for rounding costs nothing measurable in
 * tightness (tested); in float32 (u = 2⁻²⁴) they are about 10⁻³ and visible. Batch norm is bounded as its two maps
 * (subtract the running mean, then scale and shift) because the folded shift β − mean·scale can cancel.
 */
public final class Rounding {
    /** Ulps of error allowed an elementary function (tanh, exp, erf, …) and the room for small fixed operation counts. */
    static final int KAPPA = 64;
    /** Absolute slack for underflow (gradual underflow errs by at most 2⁻¹⁰⁷⁴ per operation). */
    static final double TINY = 0x1p-900;

    private static final ThreadLocal<Boolean> ON = new ThreadLocal<>();

    private Rounding() {}

    /**
     * Runs {@code body} with every bound computation started in it ({@link BoundedNetwork#of} and the bounds it computes)
     * accounting for floating-point rounding. Use it with a float64 model: in float32 the terms are large enough to cost
     * verified images.
     */
    public static <T> T accounted(Supplier<T> body) {
        Boolean previous = ON.get();
        ON.set(Boolean.TRUE);
        try {
            return body.get();
        } finally {
            if (previous == null) ON.remove(); else ON.set(previous);
        }
    }

    /** Whether the bound computations started now account for rounding. */
    static boolean on() { return Boolean.TRUE.equals(ON.get()); }

    /** The unit roundoff of {@code t}'s type: 2⁻⁵³ for float64, 2⁻²⁴ for float32. */
    static double unit(Tensor t) {
        DType d = t.dtype();
        if (d == DType.FLOAT64) return 0x1p-53;
        if (d == DType.FLOAT32) return 0x1p-24;
        throw new UserError("bounds that account for rounding need float32 or float64 values, got " + d);
    }

    /** γ for dot products of up to {@code n} terms, doubled: 2(n + κ)u/(1 − (n + κ)u). */
    static double gamma(long n, double u) {
        double nu = (n + KAPPA) * u;
        if (nu >= 0.01) {
            throw new UserError("a layer of " + n + " values per example is too large to account for rounding in this precision; "
                    + "use float64");
        }
        return 2 * nu / (1 - nu);
    }

    /** Largest magnitude of each value of {@code in}. */
    static Tensor magnitude(Interval in) { return in.lo().abs().maximum(in.hi().abs()); }

    /** {@code in} widened by {@code slack} on both sides. */
    static Interval widen(Interval in, Tensor slack) {
        return new Interval(in.lo().sub(slack), in.hi().add(slack));
    }

    /** Nodes whose interval rule is exact in floating point: ReLU (max with 0), max pooling, reshapes, transposes, slices, concatenations. */
    private static boolean exactForward(Node node) {
        return node instanceof Layers.Flatten || node instanceof Layers.Permute || node instanceof Layers.Slice || node instanceof Layers.Reshape
                || node instanceof Layers.MaxPool
                || node instanceof Layers.Fork f && f.concatenates()   // a concatenation: its chains' steps are widened each
                || node instanceof Layers.Act a && (a.kind() == Activation.Kind.RELU || a.kind() == Activation.Kind.IDENTITY);
    }

    /** Nodes whose backward step is exact: reshapes, transposes, slices (the coefficients placed among zeros), the identity. */
    private static boolean exactBackward(Node node) {
        return node instanceof Layers.Flatten || node instanceof Layers.Permute || node instanceof Layers.Slice || node instanceof Layers.Reshape
                || node instanceof Layers.Act a && a.kind() == Activation.Kind.IDENTITY;
    }

    /** Values per example of {@code t} [N, …]. */
    private static long perExample(Tensor t) { return t.dim() <= 1 ? 1 : t.numel() / t.size(0); }

    /** {@code node.ibp}, its output widened by the bound on its rounding error where the trace accounts for rounding. */
    static Interval ibp(Node node, Interval in, Trace trace) {
        Interval out = node.ibp(in, trace);
        if (!trace.rounding || exactForward(node)) return out;
        double u = unit(in.lo());
        if (node.affine()) {
            double g = gamma(Math.max(perExample(in.lo()), perExample(out.lo())) + 1, u);
            return widen(out, affineMagnitude(node, in, trace).mul(g).add(TINY));
        }
        return widen(out, magnitude(out).mul(2.0 * KAPPA * u).add(TINY));
    }

    /**
     * |W| ẑ + |b| for an affine node, per example in its output's shape: its interval rule on [−ẑ, ẑ] (centre b, radius
     * |W| ẑ), ẑ the magnitude of its input bounds. Cached per bound computation by the forward pass (in the caller's
     * scope); a backward walk, which may run in a nested scope, only reads the cache, computing afresh where the pass did not.
     */
    static Tensor affineMagnitude(Node node, Interval in, Trace trace) {
        return trace.magnitude(node, () -> symmetric(node, in));
    }

    private static Tensor symmetric(Node node, Interval in) {
        Tensor z = magnitude(in);
        return magnitude(node.ibp(new Interval(z.neg(), z), new Trace(LowerSlope.ADAPTIVE)));
    }

    /** A per-example [N, …] tensor against coefficients [N, S, …]: [N, 1, …]; one already [N, S or 1, …] as it is. */
    private static Tensor againstRows(Tensor t, Tensor a) {
        return t.dim() == a.dim() ? t : Layers.rows(t);
    }

    /**
     * {@code node.backward}, with the bound on the step's rounding error subtracted from the walk's constants where the
     * trace accounts for rounding. {@code a}: the coefficients [N, S, …] on the node's output.
     */
    static Tensor backward(Node node, Tensor a, Trace trace, Trace.Sum sum) {
        return accounted(node, a, node.backward(a, trace, sum), trace, sum);
    }

    /** {@link Layers.Conv#backwardUnitRows}, accounted as {@link #backward} accounts the convolution's step. */
    static Tensor backward(Layers.Conv conv, Tensor a, long[] units, Trace trace, Trace.Sum sum) {
        return accounted(conv, a, conv.backwardUnitRows(a, units, trace, sum), trace, sum);
    }

    /** {@code out}, the node's step back from {@code a}, with its rounding subtracted from the walk's constants where accounted. */
    private static Tensor accounted(Node node, Tensor a, Tensor out, Trace trace, Trace.Sum sum) {
        // a fork's sum of its chains, an activation's relaxation: accounted inside their own backward step, where the
        // chains' coefficients and the lines are at hand
        if (!trace.rounding || exactBackward(node) || node instanceof Layers.Fork || node instanceof Layers.Act || node instanceof Layers.Unit) {
            return out;
        }
        Interval in = trace.input(node);
        double u = unit(a);
        long n = Math.max(perExample(in.lo()), perExample(a) / Math.max(1, a.size(1))) + 1;
        Tensor term;
        if (node.affine()) {
            Tensor m = trace.magnitude(node);
            term = Trace.sumTail(a.abs().mul(againstRows(m != null ? m : symmetric(node, in), a))).mul(gamma(n, u));
        } else {   // max pooling: one-hot coefficients (exact); constants Σ A·(window's upper bound)
            Layers.MaxPool p = (Layers.MaxPool) node;
            Tensor window = Ops.maxPool2d(magnitude(in), p.kernel(), p.kernel());
            term = Trace.sumTail(a.abs().mul(againstRows(window, a))).mul(gamma(n, u));
        }
        sum.add(term.add(TINY).neg());
        return out;
    }

    /**
     * The bound on the rounding of a step back through an activation's lines {@code r} (input bounds {@code in}), to be
     * added to the walk's constants (it is ≤ 0): products of A [N, S, …] with the lines' slopes and intercepts, their sum
     * over the units, the lines' own rounding; and of the step's output {@code out} (branch and bound's β terms are added
     * to it).
     */
    static Tensor relaxationTerm(Tensor a, Tensor out, Relaxation r, Interval in) {
        double u = unit(a);
        long n = perExample(in.lo()) + 1;
        Tensor zHat = magnitude(in);
        return Trace.sumTail(a.abs().mul(r.magnitude(zHat))).mul(gamma(n, u))
                .add(Trace.sumTail(out.abs().mul(Layers.rows(zHat))).mul(2.0 * KAPPA * u)).add(TINY).neg();
    }

    /**
     * Rounding of the walk's end: the minimization of A·x + c over the region (its box widened by the rounding of x₀ ± ε,
     * products over d inputs, the ℓp norm of A) and the sum c of the walk's constants ({@link Trace.Sum#absolute}). [N, S].
     */
    static Tensor concretization(Tensor a, InputRegion region, Trace.Sum sum, Tensor lower) {
        double u = unit(a);
        Tensor af = a.flatten(2, -1).abs();                                             // [N, S, D]
        Tensor xHat = magnitude(region.box()).flatten(1, -1).unsqueeze(2);               // [N, D, 1]
        Tensor eps = InputRegion.perExample(region.eps(), 2);                           // [N, 1]
        Tensor overInputs = af.matmul(xHat).squeeze(2).add(af.sum(2, false).mul(eps));
        Tensor constants = sum.absolute(lower.zerosLike()).add(lower.abs());
        return overInputs.mul(gamma(af.size(2) + 2, u)).add(constants.mul(gamma(sum.terms() + 2, u))).add(TINY);
    }

    /** The sum of two chains' boxes (a residual addition), widened by that addition's rounding. */
    static Interval widenSum(Interval out) {
        return widen(out, magnitude(out).mul(2.0 * KAPPA * unit(out.lo())).add(TINY));
    }

    /**
     * An affine layer's exact bounds over an ℓ2 ball (W x₀ + b ± ε‖Wᵢ‖₂), widened by their rounding: γ·(|W| x̂ + |b| + the
     * radius), {@code magnitude} |W| x̂ + |b| for x̂ the region box's magnitude (≥ |x₀|), n the products per value.
     */
    static Interval widenBall(Interval ball, Tensor magnitude, long n) {
        return widen(ball, magnitude.add(ball.radius()).mul(gamma(n + 1, unit(ball.lo()))).add(TINY));
    }

    /**
     * Bounds of C·z [N, S] computed from the last layer with C folded in, widened by their rounding: γ·|C|·m, m [N, K] the
     * magnitude of the values C multiplies (|W| ẑ + |b| for a folded linear layer of n inputs, whose C·W adds K terms per
     * product), plus the radius where {@code withRadius} (the ℓ2 ball's ε‖(CW)ᵢ‖₂).
     */
    static Interval widenFolded(Interval out, Tensor spec, Tensor magnitude, long n, boolean withRadius) {
        Tensor m = spec.abs().matmul(magnitude.unsqueeze(2)).squeeze(2);
        if (withRadius) m = m.add(out.radius());
        return widen(out, m.mul(gamma(n + spec.size(2) + 1, unit(out.lo()))).add(TINY));
    }

    /** The region's box, widened by the rounding of x₀ ± ε. */
    static Interval box(InputRegion region) {
        Interval box = region.box();
        return widen(box, magnitude(box).mul(2 * unit(box.lo())).add(TINY));
    }
}
