package dev.tikhon.verify;

import dev.tikhon.engine.Tensor;

/**
 * Elementwise bounds lo ≤ v ≤ hi on a batch of values (first dimension: the examples). Interval bound
 * propagation works in centre/radius form, μ = (lo + hi)/2 and r = (hi − lo)/2, because an affine map
 * W v + b sends the box to the box with centre W μ + b and radius |W| r (Gowal et al. 2018).
 */
public record Interval(Tensor lo, Tensor hi) {

    public static Interval ofCentre(Tensor centre, Tensor radius) {
        return new Interval(centre.sub(radius), centre.add(radius));
    }

    public Tensor centre() { return lo.add(hi).mul(0.5); }

    public Tensor radius() { return hi.sub(lo).mul(0.5); }

    /** The tighter of two sound intervals for the same values: their intersection. */
    public Interval intersect(Interval o) {
        return new Interval(lo.maximum(o.lo), hi.minimum(o.hi));
    }

    /** Bounds of a monotone non-decreasing elementwise function: the endpoints map to the endpoints. */
    public Interval map(java.util.function.UnaryOperator<Tensor> monotone) {
        return new Interval(monotone.apply(lo), monotone.apply(hi));
    }

    /** The per-example shape (without the batch dimension). */
    public long[] exampleShape() {
        long[] s = lo.shape();
        return java.util.Arrays.copyOfRange(s, 1, s.length);
    }

    /** Number of values per example. */
    public long width() {
        long n = 1;
        for (long d : exampleShape()) n *= d;
        return n;
    }
}
