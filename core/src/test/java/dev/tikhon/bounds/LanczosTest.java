package dev.tikhon.bounds;

import dev.tikhon.engine.DType;
import dev.tikhon.engine.Device;
import dev.tikhon.engine.Rng;
import dev.tikhon.engine.Tensor;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

/** Oracle: matrices with known spectra, Q diag(λ) Qᵀ with Q a Householder reflection. */
class LanczosTest {

    @Test
    void findsTheLargestEigenvalueOfEachMatrixInTheBatch() {
        Rng.seed(5);
        int n = 3, d = 12;
        double[][] lambdas = {
                {-5, -1, 0, 0.5, 1, 2, 3, 3.5, 4, 4.2, 4.5, 7.25},
                {-9, -8, -7, -6, -5, -4, -3, -2, -1.5, -1.2, -1.1, -1.0},   // all negative: λ_max = −1
                {1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1}};                      // a multiple of I: invariant subspace at once
        Tensor[] matrices = new Tensor[n];
        for (int i = 0; i < n; i++) {
            Tensor u = Tensor.randn(DType.FLOAT64, Device.CPU, d, 1);
            u = u.div(u.norm(2));
            Tensor q = Tensor.eye(d, DType.FLOAT64, Device.CPU).sub(u.matmul(u.t()).mul(2));
            matrices[i] = q.matmul(Tensor.fromDoubles(lambdas[i], d).mul(Tensor.eye(d, DType.FLOAT64, Device.CPU))).matmul(q.t());
        }
        Tensor stacked = Tensor.stack(java.util.List.of(matrices), 0);   // [n, d, d]
        double[] top = Lanczos.largestEigenvalues(v -> stacked.matmul(v.unsqueeze(2)).squeeze(2),
                Tensor.zeros(DType.FLOAT64, Device.CPU, n, d), d);
        assertThat(top[0]).isCloseTo(7.25, within(1e-9));
        assertThat(top[1]).isCloseTo(-1.0, within(1e-9));
        assertThat(top[2]).isCloseTo(1.0, within(1e-9));
    }

    @Test
    void fewerStepsApproachFromBelow() {
        Rng.seed(6);
        int d = 40;
        double[] lambda = new double[d];
        for (int i = 0; i < d; i++) lambda[i] = i;   // λ_max = 39
        Tensor a = Tensor.fromDoubles(lambda, d).mul(Tensor.eye(d, DType.FLOAT64, Device.CPU));
        double previous = Double.NEGATIVE_INFINITY;
        for (int k : new int[]{2, 5, 10, 40}) {
            Rng.seed(6);
            double top = Lanczos.largestEigenvalues(v -> v.matmul(a), Tensor.zeros(DType.FLOAT64, Device.CPU, 1, d), k)[0];
            assertThat(top).isLessThanOrEqualTo(39 + 1e-9).isGreaterThanOrEqualTo(previous - 1e-9);
            previous = top;
        }
        assertThat(previous).isCloseTo(39, within(1e-8));
    }

    @Test
    void sturmBisectionOnAKnownTridiagonal() {
        // The path-graph Laplacian tridiag(−1, 2, −1) of size m has eigenvalues 2 − 2cos(kπ/(m+1)).
        int m = 9;
        double[] a = new double[m], b = new double[m];
        java.util.Arrays.fill(a, 2);
        java.util.Arrays.fill(b, -1);
        assertThat(Lanczos.largestTridiagonal(a, b, m)).isCloseTo(2 - 2 * Math.cos(m * Math.PI / (m + 1)), within(1e-12));
        assertThat(Lanczos.countBelow(a, b, m, 2.0 + 1e-9)).isEqualTo(5);
    }

    @Test
    void cBoundIsTheLinearBoundWithoutCurvatureAndShrinksWithIt() {
        assertThat(Bounds.cBound(-0.5, 2, 0)).isCloseTo(0.25, within(1e-15));
        // (−g + √(g² + 2Cm))/C with g = 2, C = 3, m = 0.5: (−2 + √7)/3
        assertThat(Bounds.cBound(-0.5, 2, 3)).isCloseTo((-2 + Math.sqrt(7)) / 3, within(1e-15));
        assertThat(Bounds.cBound(0.1, 2, 3)).isZero();
        assertThat(Bounds.lBound(-0.5, 4)).isEqualTo(0.125);
        assertThat(Bounds.lBound(0.2, 4)).isZero();
    }
}
