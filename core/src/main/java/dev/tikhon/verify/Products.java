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
