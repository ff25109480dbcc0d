package dev.tikhon.verify;

import dev.tikhon.engine.Tensor;

/**
 * Bounds of an elementwise product x·y of two computed values, each within its interval ([N, …] each; y may have size 1
 * on axes where x does not, or the reverse, as a squeeze-and-excitation gate's per-channel scale does).
 *
 * <p>Intervals: the smallest and largest of the four corner products (x·y is bilinear: its extremes over a box are at
 * corners). Linear bounds: with centres c and half-widths r, x·y = c_y·x + c_x·y − c_x·c_y + (x − c_x)(y − c_y), and the
 * last term lies in [−r_x·r_y, r_x·r_y]. So x·y ≥ c_y·x + c_x·y − c_x·c_y − r_x·r_y and x·y ≤ the same + 2·r_x·r_y: the
 * averages of McCormick's two lower and of his two upper planes (McCormick, Math. Programming 1976), each exact at two
 * corners, off by at most 2·r_x·r_y elsewhere (the single planes auto_LiRPA's BoundMul uses are off by up to 4·r_x·r_y).
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
     * upper one where it is &lt; 0, go into {@code sum}.
     *
     * <p>With {@code rounding} ({@link Rounding}): the planes hold for any centres c as long as r bounds |x − c_x| and
     * |y − c_y| over the box (x·y − c_y·x − c_x·y + c_x·c_y = (x − c_x)(y − c_y)), so r is taken as the larger distance from
     * the computed c to either end, rounded up; the rounding of the coefficients a·c (and their sums over broadcast axes),
     * times the values' magnitudes, and of the constants' products and sum, is subtracted from the walk's constants.
     *
     * @return {coefficients on x, coefficients on y}
     */
    static Tensor[] backward(Tensor a, Interval x, Interval y, Trace.Sum sum, boolean rounding) {
        return backward(a, x, y, sum, rounding, null);
    }

    /**
     * The same, with α-CROWN's variables {@code mix} = {t, s} ([N, S, …] each, in [0, 1]; null: the averaged planes, t = s
     * = ½): where a ≥ 0 the lower line t·(l_y x + l_x y − l_x l_y) + (1 − t)·(u_y x + u_x y − u_x u_y), where a &lt; 0 the
     * upper line s·(u_y x + l_x y − l_x u_y) + (1 − s)·(l_y x + u_x y − u_x l_y): each a convex combination of two valid
     * planes, so valid for any t, s in [0, 1] (the ascent keeps them there). With rounding, the rounding of the weights
     * (t + (1 − t) may be 1 ± u: that much of |x·y| more) and of the coefficients and constants is subtracted.
     */
    static Tensor[] backward(Tensor a, Interval x, Interval y, Trace.Sum sum, boolean rounding, Tensor[] mix) {
        if (mix != null) return mixed(a, x, y, sum, rounding, mix[0], mix[1]);
        Tensor cx = x.lo().add(x.hi()).mul(0.5), cy = y.lo().add(y.hi()).mul(0.5);
        Tensor rx = x.hi().sub(x.lo()).mul(0.5), ry = y.hi().sub(y.lo()).mul(0.5);
        if (rounding) {   // the distance from the computed centre to either end, rounded up
            double up = 1 + 4 * Rounding.KAPPA * Rounding.unit(a);
            rx = x.hi().sub(cx).maximum(cx.sub(x.lo())).mul(up).add(Rounding.TINY);
            ry = y.hi().sub(cy).maximum(cy.sub(y.lo())).mul(up).add(Rounding.TINY);
        }
        // a·(c_y x + c_x y − c_x c_y) − |a|·r_x r_y: the lower plane where a ≥ 0, the upper one where a < 0
        Tensor abs = a.abs(), both = cx.mul(cy).abs().add(rx.mul(ry)).unsqueeze(1);
        sum.add(Trace.sumTail(a.mul(cx.mul(cy).unsqueeze(1)).add(abs.mul(rx.mul(ry).unsqueeze(1)))).neg());
        Tensor onX = reduced(a.mul(cy.unsqueeze(1)), x.lo()), onY = reduced(a.mul(cx.unsqueeze(1)), y.lo());
        if (rounding) {
            double u = Rounding.unit(a);
            long n = Math.max(perExample(a), 1) + 3;
            Tensor xHat = Rounding.magnitude(x).unsqueeze(1), yHat = Rounding.magnitude(y).unsqueeze(1);
            Tensor coefficients = Trace.sumTail(reduced(abs.mul(cy.abs().unsqueeze(1)), x.lo()).mul(xHat))
                    .add(Trace.sumTail(reduced(abs.mul(cx.abs().unsqueeze(1)), y.lo()).mul(yHat)));
            Tensor constants = Trace.sumTail(abs.mul(both));
            sum.add(coefficients.add(constants).mul(Rounding.gamma(n, u)).add(Rounding.TINY).neg());
        }
        return new Tensor[]{onX, onY};
    }

    private static Tensor[] mixed(Tensor a, Interval x, Interval y, Trace.Sum sum, boolean rounding, Tensor t, Tensor s) {
        Tensor lx = x.lo().unsqueeze(1), ux = x.hi().unsqueeze(1), ly = y.lo().unsqueeze(1), uy = y.hi().unsqueeze(1);
        Tensor t1 = t.neg().add(1), s1 = s.neg().add(1);
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
                    .add(lx.mul(ly).abs()).add(ux.mul(uy).abs()).add(lx.mul(uy).abs()).add(ux.mul(ly).abs()).add(xHat.mul(yHat));
            sum.add(Trace.sumTail(a.abs().mul(size)).mul(Rounding.gamma(n, u)).add(Rounding.TINY).neg());
        }
        return new Tensor[]{reduced(onX, x.lo()), reduced(onY, y.lo())};
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
