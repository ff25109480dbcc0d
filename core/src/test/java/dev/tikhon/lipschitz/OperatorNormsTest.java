package dev.tikhon.lipschitz;

import dev.tikhon.engine.Autograd;
import dev.tikhon.engine.DType;
import dev.tikhon.engine.Device;
import dev.tikhon.engine.OneThread;
import dev.tikhon.engine.Ops;
import dev.tikhon.engine.Rng;
import dev.tikhon.engine.Scope;
import dev.tikhon.engine.Tensor;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

/**
 * Oracles: closed forms (a 1×1 convolution is its channel matrix at every pixel; the shift kernel's exact norm
 * 2cos(π/57)) and the float64 SVD of each convolution's explicitly built matrix on small inputs.
 */
@ExtendWith(OneThread.class)
class OperatorNormsTest {

    /** The matrix of x ↦ conv2d(x, k) on [C_in, h, w] inputs, built column by column from basis vectors (float64). */
    static Tensor explicit(Tensor kernel, int stride, int padding, int h, int w) {
        try (Autograd.Guard g = Autograd.noGrad()) {
            Tensor k = kernel.to(DType.FLOAT64);
            long d = k.size(1) * h * w;
            Tensor basis = Tensor.eye(d, DType.FLOAT64, Device.CPU).reshape(d, k.size(1), h, w);
            Tensor cols = Ops.conv2d(basis, k, null, stride, padding).flatten(1, -1);   // [d, out]
            return cols.t().keep();
        }
    }

    @Test void denseIsTheLargestSingularValue() {
        try (Scope s = Scope.open()) {
            Tensor w = Tensor.fromDoubles(new double[]{3, 4, 0, 0}, 2, 2);
            assertThat(OperatorNorms.dense(w)).isCloseTo(5, within(1e-8)).isGreaterThanOrEqualTo(5);
            assertThat(OperatorNorms.denseLower(w, 20, 1)).isCloseTo(5, within(1e-8)).isLessThanOrEqualTo(5 * (1 + 1e-12));
        }
    }

    @Test void oneByOneConvolutionHasItsChannelMatrixNorm() {
        try (Scope s = Scope.open()) {
            Tensor k = Tensor.fromDoubles(new double[]{3, 4, 0, 0}, 2, 2, 1, 1);
            for (int size : new int[]{1, 5, 28}) {
                assertThat(OperatorNorms.conv(k, 1, 0, size, size)).isCloseTo(5, within(1e-7)).isGreaterThanOrEqualTo(5);
            }
        }
    }

    /** Kernel with 1 at the centre and 1 to its right on 28×28, padding 1: I ⊗ (I + S), exact norm 2cos(π/57); bound 2. */
    @Test void shiftKernelKnownAnswer() {
        try (Scope s = Scope.open()) {
            double[] k = new double[9];
            k[4] = 1;
            k[5] = 1;
            Tensor kernel = Tensor.fromDoubles(k, 1, 1, 3, 3);
            double exact = explicit(kernel, 1, 1, 28, 28).spectralNorm().item();
            assertThat(exact).isCloseTo(2 * Math.cos(Math.PI / 57), within(1e-9));
            double bound = OperatorNorms.conv(kernel, 1, 1, 28, 28);
            assertThat(bound).isCloseTo(2, within(1e-7)).isGreaterThanOrEqualTo(exact);
            double lower = OperatorNorms.convLower(kernel, 1, 1, 28, 28, 200, 3);
            assertThat(lower).isLessThanOrEqualTo(exact * (1 + 1e-12)).isGreaterThan(1.9);
        }
    }

    /**
     * Random kernels, several channel counts, paddings and strides on small inputs: the bound is never below the
     * exact norm (SVD of the built matrix) and at most 1.3 times it; the power-iteration value never above it.
     */
    @Test void convolutionBoundIsSoundAndWithinFactorOfTheExactNorm() {
        Rng.seed(7);
        int[][] cases = {   // c_in, c_out, kernel, stride, padding, h, w
                {1, 1, 3, 1, 1, 8, 8}, {2, 3, 3, 1, 1, 8, 8}, {3, 2, 3, 2, 1, 8, 8}, {2, 4, 3, 1, 0, 8, 7},
                {4, 4, 1, 2, 0, 6, 6}, {2, 2, 5, 1, 2, 9, 9}, {3, 5, 2, 2, 0, 8, 8}};
        for (int[] c : cases) {
            try (Scope s = Scope.open()) {
                Tensor k = Tensor.randn(DType.FLOAT64, Device.CPU, c[1], c[0], c[2], c[2]);
                double exact = explicit(k, c[3], c[4], c[5], c[6]).spectralNorm().item();
                double bound = OperatorNorms.conv(k, c[3], c[4], c[5], c[6]);
                double lower = OperatorNorms.convLower(k, c[3], c[4], c[5], c[6], 100, 1);
                assertThat(bound).as("case %s", java.util.Arrays.toString(c)).isGreaterThanOrEqualTo(exact);
                assertThat(bound / exact).as("case %s", java.util.Arrays.toString(c)).isLessThan(1.3);
                assertThat(lower).as("case %s", java.util.Arrays.toString(c)).isLessThanOrEqualTo(exact * (1 + 1e-12));
            }
        }
    }
}
