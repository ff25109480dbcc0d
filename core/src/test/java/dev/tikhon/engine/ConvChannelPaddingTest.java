package dev.tikhon.engine;

import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.SplittableRandom;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Oracle: float64. Input-channel counts above 8 that are not multiples of 8 (a FarkasNet widens by
 * one channel per block: 17, 18, 33, …) — where libtorch 2.10's oneDNN float32 convolutions were
 * found wrong on this machine in the forward pass and both gradients, at the AVX cap too (see
 * Engine#checkKernels). Through {@link Ops#conv2d}, which pads such inputs, they must match float64
 * at one and two threads. With the padding bypassed by hand, the self-check finds the odd-channel
 * convolutions wrong and turns oneDNN off, so results stay right (at reference-kernel speed).
 */
class ConvChannelPaddingTest {

    @Test
    void float32ConvolutionsMatchFloat64ForChannelCountsThatAreNotMultiplesOf8() {
        int before = Engine.threads();
        try {
            for (int threads : new int[]{1, 2}) {
                Engine.setThreads(threads);
                SplittableRandom rng = new SplittableRandom(threads);
                for (int in : new int[]{5, 9, 12, 17, 18, 24, 33, 35, 67}) for (int out : new int[]{4, 17, 32}) for (int k : new int[]{1, 3}) {
                    double[] e = errors(rng, in, out, k);
                    String what = String.format("in %d out %d %dx%d, %d threads, %s", in, out, k, k, threads, Engine.kernels());
                    assertThat(e[0]).as("forward " + what).isLessThan(1e-5);
                    assertThat(e[1]).as("input grad " + what).isLessThan(1e-4);
                    assertThat(e[2]).as("weight grad " + what).isLessThan(1e-4);
                }
            }
        } finally {
            Engine.setThreads(before);
        }
    }

    /** With oneDNN on, inputs of more than 8 channels are always padded, and the padded kernels pass the probe. */
    @Test
    void oneDnnConvolutionsArePaddedAndThePaddedOnesAreRight() {
        Engine.init();
        if (!Engine.kernels().startsWith("oneDNN")) return;   // reference kernels: nothing is padded
        assertThat(Engine.padConvChannels).isTrue();
        assertThat(Engine.kernels()).contains("padded to a multiple of 8");
        assertThat(KernelCheck.worstOddChannelError()).isLessThan(1e-4);
    }

    private static double[] errors(SplittableRandom rng, int in, int out, int k) {
        double[] x = new double[2 * in * 9 * 9], w = new double[out * in * k * k];
        for (int i = 0; i < x.length; i++) x[i] = rng.nextGaussian();
        for (int i = 0; i < w.length; i++) w[i] = rng.nextGaussian();
        Tensor[] ref = null;
        double[] err = new double[3];
        for (DType dt : new DType[]{DType.FLOAT64, DType.FLOAT32}) {
            Tensor xt = Tensor.fromDoubles(x, 2, in, 9, 9).to(dt).requiresGrad(true);
            Tensor wt = Tensor.fromDoubles(w, out, in, k, k).to(dt).requiresGrad(true);
            Tensor y = Ops.conv2d(xt, wt, null, 1, k / 2);
            Tensor weights = y.detach().to(DType.FLOAT64).sin().to(dt);
            List<Tensor> g = Autograd.grad(List.of(y.mul(weights).sum()), List.of(xt, wt), null, false, false);
            Tensor[] cur = {y.to(DType.FLOAT64), g.get(0).to(DType.FLOAT64), g.get(1).to(DType.FLOAT64)};
            if (ref == null) ref = cur;
            else for (int j = 0; j < 3; j++) err[j] = cur[j].sub(ref[j]).abs().max().item() / (1e-12 + ref[j].abs().max().item());
        }
        return err;
    }
}
