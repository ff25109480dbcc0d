package dev.tikhon.engine;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

/** Known answers: a convolution's and a dense layer's multiply-adds, counted forward and backward. */
class FlopCountTest {

    @Test
    void countsConvolutionAndLinearFlopsForwardAndBackward() {
        try (Scope s = Scope.open()) {
            Tensor x = Tensor.rand(2, 3, 10, 10);                       // data: no input gradient
            Tensor w = Tensor.rand(4, 3, 3, 3).requiresGrad(true);
            Tensor lw = Tensor.rand(5, 4 * 4 * 4).requiresGrad(true);
            FlopCount.start();
            Tensor y = Ops.conv2d(x, w, null, 2, 0);                     // 10x10, k3, s2 -> 4x4
            Ops.linear(y.flatten(1, -1), lw, null);                      // input requires grad (through w)
            long[] c = FlopCount.stop();
            long conv = 2L * 2 * 4 * 4 * 4 * 3 * 3 * 3, lin = 2L * 2 * 64 * 5;
            assertThat(c[0]).isEqualTo(conv + lin);
            assertThat(c[1]).isEqualTo(conv + 2 * lin);                 // conv: weight grad only; linear: both
            assertThat(FlopCount.stop()).containsExactly(0, 0);          // stopped: nothing counted
        }
    }
}
