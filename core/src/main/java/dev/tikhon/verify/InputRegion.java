package dev.tikhon.verify;

import dev.tikhon.attack.InputDomain;
import dev.tikhon.attack.Norm;
import dev.tikhon.engine.DType;
import dev.tikhon.engine.Tensor;

/**
 * The set a verifier proves a property over: for each example n, the ℓp ball of radius ε_n around x₀ₙ
 * intersected with the data domain (the box [0, 1] of images; unbounded for data that are not images, such as the 2-D
 * toy sets, and for the textbook examples: {@link InputDomain}).
 *
 * <p>Concretizing a linear bound. CROWN ends with, for each specification row s, a linear function
 * g(x) = Aₛ·x + aₛ that is ≤ the quantity bounded for every x of the region; its minimum over the region is
 * a sound lower bound. Over the ℓp ball alone it is Aₛ·x₀ + aₛ − ε‖Aₛ‖_q with q the dual exponent
 * (1/p + 1/q = 1; Hölder's inequality is tight). Over the box [lo, hi] it is Aₛ·c + aₛ − |Aₛ|·r with centre c
 * and radius r. For ℓ∞ the ball ∩ domain <em>is</em> a box (x₀ ± ε clipped to the domain), so the second
 * formula is the exact minimum. For ℓ2 the ball ∩ box is not a box: both minima are sound lower bounds over
 * the intersection (it lies inside each set), and we take the larger; the exact minimum over ball ∩ box
 * could be larger still (looser here, never unsound).
 */
public final class InputRegion {
    private final Tensor x0, eps;
    private final Norm norm;
    private final double domainLo, domainHi;
    private final Interval box;
    /** A general box ({@link #box(Tensor, Tensor)}): kept as given by {@link #narrow} and {@link #rows}; null for a ball. */
    private final Interval given;

    /**
     * @param x0  centres, [N, …]
     * @param eps radii, [N] (one per example, so that bisection can try a different radius for each)
     */
    public InputRegion(Tensor x0, Tensor eps, Norm norm, double domainLo, double domainHi) {
        if (eps.dim() != 1 || eps.size(0) != x0.size(0)) {
            throw new IllegalArgumentException("eps must hold one radius per example: " + eps + " for " + x0);
        }
        this.x0 = x0;
        this.eps = eps.to(x0.dtype());
        this.norm = norm;
        this.domainLo = domainLo;
        this.domainHi = domainHi;
        Tensor e = perExample(this.eps, x0.dim());
        Tensor lo = x0.sub(e), hi = x0.add(e);
        if (Double.isFinite(domainLo)) lo = lo.clampMin(domainLo);
        if (Double.isFinite(domainHi)) hi = hi.clampMax(domainHi);
        // An ℓ2 ball of radius ε lies inside the ℓ∞ ball of the same radius: the box holds the region either way.
        this.box = new Interval(lo, hi);
        this.given = null;
    }

    private InputRegion(Interval given, Tensor eps) {
        this.given = given;
        this.box = given;
        this.x0 = given.centre();
        this.eps = eps;
        this.norm = Norm.LINF;
        this.domainLo = Double.NEGATIVE_INFINITY;
        this.domainHi = Double.POSITIVE_INFINITY;
    }

    /**
     * A general box [lo, hi] per coordinate (ℓ∞ with a radius of its own per coordinate), [N, …] each, lo ≤ hi: a VNN-LIB
     * property's input set. Everything that reads a region reads this box ({@link #minimize} over ℓ∞ is the box formula);
     * the centre is its midpoint and ε, per example, its largest half-width, so that x₀ ± ε holds the box: a reader that
     * takes the region for the ℓ∞ ball x₀ ± ε (the rounding terms of {@link Rounding#concretization}) reads a superset.
     */
    public static InputRegion box(Tensor lo, Tensor hi) {
        if (!java.util.Arrays.equals(lo.shape(), hi.shape())) {
            throw new IllegalArgumentException("box bounds of different shapes: " + lo + " and " + hi);
        }
        if (hi.sub(lo).min().item() < 0) throw new IllegalArgumentException("an empty box: some lower bound exceeds its upper bound");
        Interval b = new Interval(lo, hi);
        Tensor eps = b.radius().flatten(1, -1).amax(1, false);
        // the midpoint and half-width are rounded: widen ε by their rounding so that x₀ ± ε still holds [lo, hi]
        eps = eps.add(b.centre().abs().flatten(1, -1).amax(1, false).add(eps).mul(0x1p-50)).add(Double.MIN_NORMAL);
        return new InputRegion(b, eps);
    }

    /** The ball intersected with the input domain in force on this thread ({@link InputDomain#current()}). */
    public static InputRegion inDomain(Tensor x0, Tensor eps, Norm norm) {
        InputDomain d = InputDomain.current();
        return new InputRegion(x0, eps, norm, d.lo(), d.hi());
    }

    /** The same, one radius for all (finite and ≥ 0). */
    public static InputRegion inDomain(Tensor x0, double eps, Norm norm) {
        if (!(eps >= 0) || Double.isInfinite(eps)) throw new IllegalArgumentException("a verified radius must be finite and ≥ 0, got " + eps);
        return inDomain(x0, Tensor.full(eps, x0.dtype(), x0.device(), x0.size(0)), norm);
    }

    /** Images: the ball intersected with [0, 1]. */
    public static InputRegion images(Tensor x0, Tensor eps, Norm norm) {
        return new InputRegion(x0, eps, norm, 0, 1);
    }

    /** Images, one radius for all. */
    public static InputRegion images(Tensor x0, double eps, Norm norm) {
        return images(x0, Tensor.full(eps, x0.dtype(), x0.device(), x0.size(0)), norm);
    }

    /** The ball alone, no domain constraint. */
    public static InputRegion ball(Tensor x0, double eps, Norm norm) {
        return new InputRegion(x0, Tensor.full(eps, x0.dtype(), x0.device(), x0.size(0)), norm,
                Double.NEGATIVE_INFINITY, Double.POSITIVE_INFINITY);
    }

    /** The region of examples [start, start + length). */
    public InputRegion narrow(long start, long length) {
        if (given != null) return new InputRegion(new Interval(given.lo().narrow(0, start, length), given.hi().narrow(0, start, length)), eps.narrow(0, start, length));
        return new InputRegion(x0.narrow(0, start, length), eps.narrow(0, start, length), norm, domainLo, domainHi);
    }

    /** The region of the examples {@code index} ([R] INT64) picks, repeats allowed: branch and bound's domains of one example. */
    InputRegion rows(Tensor index) {
        if (given != null) return new InputRegion(new Interval(given.lo().indexSelect(0, index), given.hi().indexSelect(0, index)), eps.indexSelect(0, index));
        return new InputRegion(x0.indexSelect(0, index), eps.indexSelect(0, index), norm, domainLo, domainHi);
    }

    public Tensor centre() { return x0; }

    public Tensor eps() { return eps; }

    public Norm norm() { return norm; }

    /** The smallest box holding the region: x₀ ± ε clipped to the domain. */
    public Interval box() { return box; }

    /** ε reshaped to broadcast against a tensor of {@code dims} dimensions whose first is the batch. */
    static Tensor perExample(Tensor eps, int dims) {
        long[] shape = new long[dims];
        java.util.Arrays.fill(shape, 1);
        shape[0] = eps.size(0);
        return eps.reshape(shape);
    }

    /**
     * Per example, a point of the region where a·x is lowest, {@code a} [N, D] (flat coefficients, a final linear bound's
     * on the input): over a box (ℓ∞, a VNN-LIB box) its corner by the signs of a, exactly; over an ℓ2 ball ∩ box the
     * ball's x₀ − ε·a/‖a‖₂ moved into the box (which only brings it closer to x₀). [N, …input]. The values are the
     * region's type's, as rounded: {@link #inside} moves one into the exact ball.
     */
    Tensor lowestPoints(Tensor a) {
        Tensor lo = box.lo().flatten(1, -1), hi = box.hi().flatten(1, -1);
        Tensor x;
        if (norm == Norm.LINF) {
            x = Tensor.where(a.gt(0), lo, hi);
        } else {
            Tensor length = a.norm(2, new long[]{1}, true).clampMin(Double.MIN_NORMAL);
            x = x0.flatten(1, -1).sub(a.div(length).mul(eps.unsqueeze(1))).maximum(lo).minimum(hi);
        }
        return x.reshape(x0.shape());
    }

    /**
     * {@code point} (flat, values of type {@code dtype}) moved toward x₀ in steps the type can represent until it lies in
     * the ball of radius ε(1 − 2⁻²⁰) (this region being of one example): a point computed as x₀ ± ε in the type may lie
     * outside the exact ball by a rounding, and a caller's ε in float64 may be below the type's. A box region's points are
     * its own values: returned as they are. Each move is toward x₀, which the box holds, so the point stays in the box.
     */
    double[] inside(double[] point, DType dtype) {
        if (given != null) return point;
        double[] c = x0.to(DType.FLOAT64).flatten(0, -1).toDoubleArray(), p = point.clone();
        double r = eps.to(DType.FLOAT64).toDoubleArray()[0] * (1 - 0x1p-20);
        boolean single = dtype == DType.FLOAT32;
        if (norm == Norm.LINF) {
            for (int d = 0; d < p.length; d++) {
                if (Math.abs(p[d] - c[d]) <= r) continue;
                double v = c[d] + Math.copySign(r, p[d] - c[d]);
                p[d] = single ? (float) v : v;
                // rounded to the type, it may lie a step outside still: steps toward x₀ (two at most)
                while (Math.abs(p[d] - c[d]) > r) p[d] = single ? Math.nextAfter((float) p[d], c[d]) : Math.nextAfter(p[d], c[d]);
            }
            return p;
        }
        for (int tries = 0; tries < 64; tries++) {
            double sq = 0;
            for (int d = 0; d < p.length; d++) sq += (p[d] - c[d]) * (p[d] - c[d]);
            if (Math.sqrt(sq) <= r) return p;
            double scale = r / Math.sqrt(sq) * (1 - 0x1p-20);
            for (int d = 0; d < p.length; d++) {
                double v = c[d] + (p[d] - c[d]) * scale;
                p[d] = single ? (float) v : v;
            }
        }
        return p;
    }

    /**
     * The minimum over the region of A·x + a, per example and row.
     *
     * @param a    coefficients [N, S, …input shape]
     * @param bias constants [N, S]
     * @return [N, S]
     */
    public Tensor minimize(Tensor a, Tensor bias) {
        Tensor af = a.flatten(2, -1);   // [N, S, D]
        Tensor c = box.centre().flatten(1, -1).unsqueeze(2), r = box.radius().flatten(1, -1).unsqueeze(2);
        Tensor overBox = af.matmul(c).squeeze(2).sub(af.abs().matmul(r).squeeze(2)).add(bias);
        if (norm == Norm.LINF) return overBox;
        Tensor overBall = af.matmul(x0.flatten(1, -1).unsqueeze(2)).squeeze(2)
                .sub(af.norm(norm.dualP(), new long[]{2}, false).mul(eps.unsqueeze(1))).add(bias);
        return overBox.maximum(overBall);
    }
}
