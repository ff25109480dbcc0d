package dev.tikhon.verify;

import dev.tikhon.engine.DType;
import dev.tikhon.engine.Device;
import dev.tikhon.engine.Rng;
import dev.tikhon.engine.Tensor;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The bounds of x·y over a box, against every vertex of the box: Σ A·(x∘y) − (the linear bound) is multilinear in the
 * coordinates (each appears to the first power in each term, a broadcast y shared by several x's included), so its
 * minimum over the box is at a vertex; the intervals hold the products at every vertex and reach them.
 */
class ProductsTest {
    static final DType F64 = DType.FLOAT64;

    /**
     * x [1, 3] and y [1, 1], y broadcast over x (as a squeeze-and-excitation gate); 50 random boxes and coefficient rows of
     * both signs: the linear bound never exceeds Σ A·(x∘y) at the 16 vertices, and for a single product with A = ±1 it is
     * attained at two of the four corners (the averaged McCormick planes are exact there), so nothing was given away there.
     */
    @Test
    void theLinearBoundsHoldAtEveryVertexAndTouchThePlanesCorners() {
        Rng.seed(1);
        for (int trial = 0; trial < 50; trial++) {
            Interval x = box(3), y = box(1);
            Tensor a = Tensor.randn(F64, Device.CPU, 1, 2, 3);   // [N, S, …]: two rows of coefficients
            Trace.Sum sum = new Trace.Sum();
            Tensor[] coef = Products.backward(a, x, y, sum, false);
            assertThat(coef[1].shape()).containsExactly(1, 2, 1);   // summed over the broadcast axis
            assertBelowAtEveryVertex(a, x, y, coef, sum, "trial " + trial);
            double[] lo = concat(x.lo(), y.lo()), hi = concat(x.hi(), y.hi());
            Interval box = Products.interval(x, y);
            for (int v = 0; v < 16; v++) {
                double[] p = new double[4];
                for (int d = 0; d < 4; d++) p[d] = (v >> d & 1) == 0 ? lo[d] : hi[d];
                for (int i = 0; i < 3; i++) {
                    double product = p[i] * p[3];
                    assertThat(product).isBetween(box.lo().toDoubleArray()[i] - 1e-12, box.hi().toDoubleArray()[i] + 1e-12);
                }
            }
            // one product, A = +1 (the lower plane) and −1 (the upper): exact at two opposite corners each
            for (double sign : new double[]{1, -1}) {
                Interval x1 = new Interval(x.lo().narrow(1, 0, 1), x.hi().narrow(1, 0, 1));
                Trace.Sum one = new Trace.Sum();
                Tensor[] c = Products.backward(Tensor.full(sign, F64, Device.CPU, 1, 1, 1), x1, y, one, false);
                double k = one.value(Tensor.zeros(F64, Device.CPU, 1, 1)).item(), cx = c[0].item(), cy = c[1].item();
                int touching = 0;
                for (double px : new double[]{lo[0], hi[0]}) {
                    for (double py : new double[]{lo[3], hi[3]}) {
                        if (Math.abs(sign * px * py - (cx * px + cy * py + k)) < 1e-12) touching++;
                    }
                }
                assertThat(touching).as("trial %d, A = %s", trial, sign).isEqualTo(2);
            }
        }
    }

    /**
     * α-CROWN's lines: for random t, s in [0, 1] per unit and row, the mixed planes hold at every vertex; t = s = ½ gives
     * the averaged planes (the same coefficients and constants to 10⁻¹²); t = s = 1 and 0 are McCormick's single planes,
     * each exact at its corner (the lower ones at (l_x, l_y) and (u_x, u_y)).
     */
    @Test
    void theMixedPlanesHoldForEveryMixAndHalfIsTheAverage() {
        Rng.seed(2);
        for (int trial = 0; trial < 50; trial++) {
            Interval x = box(3), y = box(1);
            Tensor a = Tensor.randn(F64, Device.CPU, 1, 2, 3);
            Tensor t = Tensor.rand(F64, Device.CPU, 1, 2, 3), s = Tensor.rand(F64, Device.CPU, 1, 2, 3);
            Trace.Sum sum = new Trace.Sum();
            Tensor[] coef = Products.backward(a, x, y, sum, false, new Tensor[]{t, s});
            assertBelowAtEveryVertex(a, x, y, coef, sum, "trial " + trial);
            // t = s = ½: the averaged planes, c_y·x + c_x·y − c_x·c_y ∓ r_x·r_y (centres c, half-widths r), written out here
            Tensor half = t.zerosLike().add(0.5);
            Trace.Sum mixed = new Trace.Sum();
            Tensor[] m = Products.backward(a, x, y, mixed, false, new Tensor[]{half, half});
            Tensor cx = x.lo().add(x.hi()).mul(0.5).unsqueeze(1), cy = y.lo().add(y.hi()).mul(0.5).unsqueeze(1);
            Tensor rx = x.hi().sub(x.lo()).mul(0.5).unsqueeze(1), ry = y.hi().sub(y.lo()).mul(0.5).unsqueeze(1);
            assertThat(m[0].sub(a.mul(cy)).abs().max().item()).isLessThan(1e-12);
            assertThat(m[1].sub(a.mul(cx).sum(2, true)).abs().max().item()).isLessThan(1e-12);
            Tensor averagedConstant = Trace.sumTail(a.mul(cx.mul(cy)).add(a.abs().mul(rx.mul(ry)))).neg();
            assertThat(mixed.value(Tensor.zeros(F64, Device.CPU, 1, 2)).sub(averagedConstant).abs().max().item()).isLessThan(1e-12);
            // and without variables the walk uses exactly those planes
            Trace.Sum plain = new Trace.Sum();
            Tensor[] c = Products.backward(a, x, y, plain, false);
            for (int k = 0; k < 2; k++) assertThat(c[k].sub(m[k]).abs().max().item()).isLessThan(1e-12);
            assertThat(plain.value(Tensor.zeros(F64, Device.CPU, 1, 2)).sub(averagedConstant).abs().max().item()).isLessThan(1e-12);
        }
        // t = 1: the plane l_y x + l_x y − l_x l_y, exact at (l_x, l_y); t = 0: u_y x + u_x y − u_x u_y, exact at (u_x, u_y)
        Interval x = new Interval(Tensor.full(-1, F64, Device.CPU, 1, 1), Tensor.full(2, F64, Device.CPU, 1, 1));
        Interval y = new Interval(Tensor.full(0.5, F64, Device.CPU, 1, 1), Tensor.full(3, F64, Device.CPU, 1, 1));
        for (double w : new double[]{1, 0}) {
            Trace.Sum one = new Trace.Sum();
            Tensor mix = Tensor.full(w, F64, Device.CPU, 1, 1, 1);
            Tensor[] c = Products.backward(Tensor.full(1, F64, Device.CPU, 1, 1, 1), x, y, one, false, new Tensor[]{mix, mix});
            double px = w == 1 ? -1 : 2, py = w == 1 ? 0.5 : 3;
            assertThat(c[0].item() * px + c[1].item() * py + one.value(Tensor.zeros(F64, Device.CPU, 1, 1)).item()).isCloseTo(px * py,
                    org.assertj.core.api.Assertions.within(1e-12));
        }
    }

    /** A random interval of {@code n} values, [1, n]: lower ends standard normal, widths up to 2. */
    private static Interval box(int n) {
        Tensor lo = Tensor.randn(F64, Device.CPU, 1, n);
        return new Interval(lo, lo.add(Tensor.rand(F64, Device.CPU, 1, n).mul(2)));
    }

    /**
     * For x [1, 3] and y [1, 1] (broadcast), coefficients a [1, 2, 3] on x∘y and what {@link Products#backward} made of them
     * ({@code coef} on x and y, constants in {@code sum}): at each of the 16 vertices of the box, each row's linear bound
     * is at most Σ a·(x∘y).
     */
    private static void assertBelowAtEveryVertex(Tensor a, Interval x, Interval y, Tensor[] coef, Trace.Sum sum, String what) {
        double[] constant = sum.value(Tensor.zeros(F64, Device.CPU, 1, 2)).toDoubleArray();
        double[] ax = coef[0].toDoubleArray(), ay = coef[1].toDoubleArray(), av = a.toDoubleArray();
        double[] lo = concat(x.lo(), y.lo()), hi = concat(x.hi(), y.hi());
        for (int v = 0; v < 16; v++) {
            double[] p = new double[4];
            for (int d = 0; d < 4; d++) p[d] = (v >> d & 1) == 0 ? lo[d] : hi[d];
            for (int r = 0; r < 2; r++) {
                double exact = 0, linear = constant[r] + ay[r] * p[3];
                for (int i = 0; i < 3; i++) {
                    exact += av[r * 3 + i] * p[i] * p[3];
                    linear += ax[r * 3 + i] * p[i];
                }
                assertThat(exact).as("%s vertex %d row %d", what, v, r).isGreaterThanOrEqualTo(linear - 1e-12);
            }
        }
    }

    private static double[] concat(Tensor x, Tensor y) {
        double[] a = x.toDoubleArray(), b = y.toDoubleArray(), out = new double[a.length + b.length];
        System.arraycopy(a, 0, out, 0, a.length);
        System.arraycopy(b, 0, out, a.length, b.length);
        return out;
    }
}
