package dev.tikhon.verify;

import dev.tikhon.engine.Tensor;

/**
 * Bounds of an elementwise product x·y of two computed values, each within its interval ([N, …] each; y may have size 1
 * on axes where x does not, or the reverse, as a squeeze-and-excitation gate's per-channel scale does).
 *
 * <p>Intervals: the smallest and largest of the four corner products (x·y is bilinear: its extremes over a box are at
 * corners). Linear bounds: the averages of McCormick's two lower and of his two upper planes (McCormick, Math. Programming
 * 1976), which with centres c and half-widths r are c_y·x + c_x·y − c_x·c_y ∓ r_x·r_y (x·y = c_y·x + c_x·y − c_x·c_y +
 * (x − c_x)(y − c_y), the last term in [−r_x·r_y, r_x·r_y]): each exact at two corners, off by at most 2·r_x·r_y elsewhere
 * (the single planes auto_LiRPA's BoundMul uses are off by up to 4·r_x·r_y); α-CROWN moves each between its two planes.
 */
final class Products {
    private Products() {}

    /** Bounds of x·y over the box {@code x} × {@code y}. */
    static Interval interval(Interval x, Interval y) {
        Tensor ll = x.lo().mul(y.lo()), lu = x.lo().mul(y.hi()), ul = x.hi().mul(y.lo()), uu = x.hi().mul(y.hi());
        return new Interval(ll.minimum(lu).minimum(ul).minimum(uu), ll.maximum(lu).maximum(ul).maximum(uu));
    }

    /**
     * One step of a backward walk: the coefficients {@code a} [N, S, …] on x·y become coefficients on x and on y (summed
     * over the axes each was broadcast along), and the planes' constants, the lower one where a coefficient is ≥ 0 and the
     * upper one where it is &lt; 0, go into {@code sum}: CROWN's averaged planes ({@link #backward(Tensor, Interval, Interval,
     * Trace.Sum, boolean, Tensor[])} with t = s = ½, whose weights ½ + ½ are exact).
     *
     * @return {coefficients on x, coefficients on y}
     */
    static Tensor[] backward(Tensor a, Interval x, Interval y, Trace.Sum sum, boolean rounding) {
        return backward(a, x, y, sum, rounding, null);
    }

    /**
     * The same, with α-CROWN's variables {@code mix} = {t, s} ([N, S, …] each, in [0, 1]; null: t = s = ½, the averaged
     * planes): where a ≥ 0 the lower line t·(l_y x + l_x y − l_x l_y) + (1 − t)·(u_y x + u_x y − u_x u_y), where a &lt; 0 the
     * upper line s·(u_y x + l_x y − l_x u_y) + (1 − s)·(l_y x + u_x y − u_x l_y): each a convex combination of two valid
     * planes, so valid for any t, s in [0, 1] (the ascent keeps them there). Each plane is an identity in the interval's
     * own (floating-point) ends: x·y − (l_y x + l_x y − l_x l_y) = (x − l_x)(y − l_y) ≥ 0 on the box. With {@code rounding}
     * ({@link Rounding}) the rounding of the coefficients and constants, times the values' magnitudes, is subtracted from
     * the walk's constants, and for variables also that of the weights (t + (1 − t) may be 1 ± u: that much of |x·y| more).
     */
    static Tensor[] backward(Tensor a, Interval x, Interval y, Trace.Sum sum, boolean rounding, Tensor[] mix) {
        Tensor lx = x.lo().unsqueeze(1), ux = x.hi().unsqueeze(1), ly = y.lo().unsqueeze(1), uy = y.hi().unsqueeze(1);
        Tensor t = mix == null ? null : mix[0], s = mix == null ? null : mix[1];
        Tensor t1, s1;
        if (mix == null) {   // ½ and ½: exact weights
            t = s = t1 = s1 = lx.mul(ly).zerosLike().add(0.5);
        } else {
            t1 = t.neg().add(1);
            s1 = s.neg().add(1);
        }
        Tensor pos = a.clampMin(0), neg = a.clampMax(0);
        Tensor onX = pos.mul(t.mul(ly).add(t1.mul(uy))).add(neg.mul(s.mul(uy).add(s1.mul(ly))));
        Tensor onY = pos.mul(t.mul(lx).add(t1.mul(ux))).add(neg.mul(s.mul(lx).add(s1.mul(ux))));
        Tensor constants = pos.mul(t.mul(lx.mul(ly)).add(t1.mul(ux.mul(uy)))).add(neg.mul(s.mul(lx.mul(uy)).add(s1.mul(ux.mul(ly)))));
        sum.add(Trace.sumTail(constants).neg());
        if (rounding) {
            double u = Rounding.unit(a);
            long n = Math.max(perExample(a), 1) + 6;
            Tensor xHat = Rounding.magnitude(x).unsqueeze(1), yHat = Rounding.magnitude(y).unsqueeze(1);
            Tensor size = ly.abs().add(uy.abs()).mul(xHat).add(lx.abs().add(ux.abs()).mul(yHat))
                    .add(lx.mul(ly).abs()).add(ux.mul(uy).abs()).add(lx.mul(uy).abs()).add(ux.mul(ly).abs());
            if (mix != null) size = size.add(xHat.mul(yHat));
            sum.add(Trace.sumTail(a.abs().mul(size)).mul(Rounding.gamma(n, u)).add(Rounding.TINY).neg());
        }
        return new Tensor[]{reduced(onX, x.lo()), reduced(onY, y.lo())};
    }

    /**
     * Branch and bound's score for cutting factor x of x·y (at its interval's midpoint): what the planes leave open at each
     * product, their gap 2·r_x·r_y (the measure the activations' scores use, the most their lines part), summed over the
     * products each unit of x enters (all the pixels a per-channel gate scales). {height: that sum; cost: the same weighted
     * by |A|, the walk's coefficient on each product for the domain's worst margin, or null where {@code a} is null}, each
     * [N, …x's shape]. (Weighting the gap by ½, what one cut removes, made the search slower on ProductBranchAndBoundTest's
     * gated networks: it then cut the activations before the products that decide.)
     *
     * @param a [N, …the product's shape] or null
     */
    static Tensor[] splitScores(Interval x, Interval y, Tensor a) {
        Tensor gap = x.hi().sub(x.lo()).mul(y.hi().sub(y.lo())).mul(0.5);   // 2·r_x·r_y, broadcast to the product's shape
        Tensor height = reduced(gap.unsqueeze(1), x.lo()).squeeze(1);   // one row: reduced's [N, S, …] with S = 1
        return new Tensor[]{height, a == null ? null : reduced(a.abs().mul(gap).unsqueeze(1), x.lo()).squeeze(1)};
    }

    /** Values per example and row of coefficients [N, S, …]. */
    private static long perExample(Tensor a) { return a.dim() <= 2 ? 1 : a.numel() / (a.size(0) * a.size(1)); }

    /** Coefficients [N, S, …] summed over the axes where {@code like} [N, …] has size 1 and they do not: onto like's shape. */
    private static Tensor reduced(Tensor coefficients, Tensor like) {
        if (like.dim() + 1 != coefficients.dim()) {
            throw new IllegalArgumentException("a product of values of " + like.dim() + " and " + (coefficients.dim() - 1)
                    + " axes: only values with the same number of axes are multiplied");
        }
        Tensor out = coefficients;
        for (int d = 1; d < like.dim(); d++) {
            if (like.size(d) == 1 && out.size(d + 1) != 1) out = out.sum(d + 1, true);
        }
        return out;
    }
}
