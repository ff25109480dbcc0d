package dev.tikhon.bounds;

import dev.tikhon.attack.Norm;
import dev.tikhon.engine.DType;
import dev.tikhon.engine.Device;
import dev.tikhon.engine.Rng;
import dev.tikhon.engine.Tensor;
import dev.tikhon.nn.Linear;
import dev.tikhon.nn.Module;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

/**
 * Oracles: closed forms. The margin loss ℓ = max_{j≠y} p_j − p_y of a two-class linear classifier is
 * 1 − 2σ(z_y − z_j), its input gradient −2σ'(Δ)(w_y − w_j); the Hessian of a quadratic form is its matrix; the
 * tridiagonal eigenvalue solver on matrices whose spectra are known.
 */
class BoundsTest {

    @Test
    void localQuantitiesOfATwoClassLinearClassifier() {
        Rng.seed(8);
        Linear model = new Linear(4, 2, true);
        model.to(DType.FLOAT64);
        Tensor x = Tensor.rand(DType.FLOAT64, Device.CPU, 5, 4);
        Tensor y = model.forward(x).argmax(1);   // correctly classified: negative margins
        double[] w = model.weight().value().toDoubleArray(), z = model.forward(x).toDoubleArray();
        long[] labels = y.toLongArray();
        for (Norm norm : Norm.values()) {
            Bounds.Local l = Bounds.local(model, x, y, norm, 0);
            assertThat(l.curvature()).as("no Lanczos steps, no curvature").isNull();
            for (int i = 0; i < 5; i++) {
                int c = (int) labels[i], o = 1 - c;
                double delta = z[2 * i + c] - z[2 * i + o], s = 1 / (1 + Math.exp(-delta));
                assertThat(l.margin()[i]).isCloseTo(1 - 2 * s, within(1e-12)).isNegative();
                double scale = 2 * s * (1 - s), two = 0, one = 0;
                for (int k = 0; k < 4; k++) {
                    double g = scale * (w[c * 4 + k] - w[o * 4 + k]);
                    two += g * g;
                    one += Math.abs(g);
                }
                assertThat(l.grad2()[i]).isCloseTo(Math.sqrt(two), within(1e-12));
                assertThat(l.gradDual()[i]).as("%s: the dual norm", norm).isCloseTo(norm == Norm.LINF ? one : Math.sqrt(two), within(1e-12));
            }
        }
        Bounds.Local withCurvature = Bounds.local(model, x, y, Norm.L2, 3);
        assertThat(withCurvature.curvature()).hasSize(5);
    }

    /** ℓ-shaped quadratic: a model whose Hessian in x is known makes the curvature a known answer. */
    @Test
    void curvatureIsTheLargestHessianEigenvalue() {
        Module quadratic = new Module() {   // logits (0, ½ xᵀAx) with A = diag(3, 1, −2): margin p₁ − p₀ for label 0
            @Override public Tensor forward(Tensor x) {
                Tensor q = x.narrow(1, 0, 1).square().mul(1.5).add(x.narrow(1, 1, 1).square().mul(0.5)).sub(x.narrow(1, 2, 1).square());
                return Tensor.cat(java.util.List.of(q.mul(0), q), 1);
            }
        };
        Tensor x = Tensor.zeros(DType.FLOAT64, Device.CPU, 1, 3);   // at 0: p = ½, ½; ∇ℓ = 0; Hessian of ℓ = ½ · A
        Bounds.Local l = Bounds.local(quadratic, x, Tensor.fromLongs(new long[]{0}, 1), Norm.L2, 3);
        assertThat(l.curvature()[0]).isCloseTo(1.5, within(1e-9));
        assertThat(l.grad2()[0]).isCloseTo(0, within(1e-12));
    }

    @Test
    void boundsAtTheirEdges() {
        assertThat(Bounds.lBound(0, 4)).isZero();
        assertThat(Bounds.lBound(-0.5, 0)).isInfinite();
        assertThat(Bounds.lBound(-1e-300, 1)).isPositive();
        assertThat(Bounds.cBound(0, 2, 3)).isZero();
        assertThat(Bounds.cBound(-0.5, 0, 0)).isInfinite();
        assertThat(Bounds.cBound(-0.5, 0, 2)).isCloseTo(2 * 0.5 / Math.sqrt(2 * 2 * 0.5), within(1e-15));   // √(2m/C)
        assertThat(Bounds.cBound(-0.5, 2, -3)).as("negative curvature counts as none").isCloseTo(0.25, within(1e-15));
    }

    @Test
    void tridiagonalSolverOnKnownSpectra() {
        assertThat(Lanczos.largestTridiagonal(new double[]{5}, new double[]{0}, 1)).isCloseTo(5, within(1e-12));
        assertThat(Lanczos.largestTridiagonal(new double[]{-3, 7, 2}, new double[]{0, 0, 0}, 3)).isCloseTo(7, within(1e-12));
        assertThat(Lanczos.largestTridiagonal(new double[]{-10, -20}, new double[]{1, 0}, 2)).isCloseTo(-15 + Math.sqrt(26), within(1e-12));
        assertThat(Lanczos.largestTridiagonal(new double[]{2e6, 1e6}, new double[]{1e6, 0}, 2))
                .isCloseTo(1.5e6 + Math.sqrt(0.25e12 + 1e12), within(1e-3));
        // only the first m entries count
        assertThat(Lanczos.largestTridiagonal(new double[]{1, 2, 100}, new double[]{0, 0, 0}, 2)).isCloseTo(2, within(1e-12));
        double[] a = {2, 2}, b = {1, 0};   // eigenvalues 1 and 3
        assertThat(Lanczos.countBelow(a, b, 2, 0.999)).isZero();
        assertThat(Lanczos.countBelow(a, b, 2, 1.001)).isEqualTo(1);
        assertThat(Lanczos.countBelow(a, b, 2, 2.999)).isEqualTo(1);
        assertThat(Lanczos.countBelow(a, b, 2, 3.001)).isEqualTo(2);
    }

    @Test
    void anInvariantSubspaceEndsTheIterationWithTheExactEigenvalue() {
        // 3·I: the first Krylov vector is already an eigenvector; more steps than dimensions must not spoil it
        double[] top = Lanczos.largestEigenvalues(v -> v.mul(3), Tensor.zeros(DType.FLOAT64, Device.CPU, 2, 5), 8);
        assertThat(top).containsExactly(new double[]{3, 3}, within(1e-9));
        // diag(2, 2, 1, 1, 5): repeated eigenvalues, three distinct; five steps reach the top one exactly
        Tensor d = Tensor.fromDoubles(new double[]{2, 2, 1, 1, 5}, 1, 5);
        assertThat(Lanczos.largestEigenvalues(v -> v.mul(d), Tensor.zeros(DType.FLOAT64, Device.CPU, 1, 5), 5)[0]).isCloseTo(5, within(1e-9));
    }
}
