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
     * @return {coefficients on x, coefficients on y}
     */
    static Tensor[] backward(Tensor a, Interval x, Interval y, Trace.Sum sum) {
        Tensor cx = x.lo().add(x.hi()).mul(0.5), cy = y.lo().add(y.hi()).mul(0.5);
        Tensor rx = x.hi().sub(x.lo()).mul(0.5), ry = y.hi().sub(y.lo()).mul(0.5);
        // a·(c_y x + c_x y − c_x c_y) − |a|·r_x r_y: the lower plane where a ≥ 0, the upper one where a < 0
        sum.add(Trace.sumTail(a.mul(cx.mul(cy).unsqueeze(1)).add(a.abs().mul(rx.mul(ry).unsqueeze(1))).neg()));
        return new Tensor[]{reduced(a.mul(cy.unsqueeze(1)), x.lo()), reduced(a.mul(cx.unsqueeze(1)), y.lo())};
    }

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
