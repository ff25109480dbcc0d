package dev.tikhon.engine;

import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.SplittableRandom;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

/**
 * Oracle: float64. A sweep of convolution shapes, strides and paddings whose float32 input and
 * weight gradients must match float64 at one and at two threads — the failure Tikhon found in
 * libtorch 2.10's oneDNN kernels on AVX2/AVX-512 (see KernelCheck).
 */
class KernelCheckTest {

    @Test
    void float32ConvolutionGradientsMatchFloat64AcrossShapesAndThreads() {
        int before = Engine.threads();
        try {
            for (int threads : new int[]{1, 2}) {
                Engine.setThreads(threads);
                SplittableRandom rng = new SplittableRandom(threads);
                for (int in : new int[]{1, 3, 16}) for (int out : new int[]{1, 4, 9, 24, 32}) for (int stride : new int[]{1, 2}) {
                    double[] errs = errors(rng, in, out, stride, stride == 1 ? 1 : 0);
                    assertThat(errs[0]).as("forward in %d out %d stride %d, %d threads", in, out, stride, threads).isLessThan(1e-5);
                    assertThat(errs[1]).as("input grad in %d out %d stride %d, %d threads", in, out, stride, threads).isLessThan(1e-4);
                    assertThat(errs[2]).as("weight grad in %d out %d stride %d, %d threads", in, out, stride, threads).isLessThan(1e-4);
                }
            }
        } finally {
            Engine.setThreads(before);
        }
        assertThat(Engine.kernels()).isNotEqualTo("not checked");
    }

    /** Oracle: errors computed by hand, among them a real convolution input gradient made deliberately wrong. */
    @Test
    void theErrorMeasureGivesTheHandComputedErrorOfAWrongGradient() {
        Tensor ref = Tensor.fromDoubles(new double[]{2, -4, 1, 0.5}, 4);
        // off by 1 where the largest magnitude is 4
        assertThat(KernelCheck.relativeError(Tensor.fromDoubles(new double[]{2, -3, 1, 0.5}, 4), ref)).isEqualTo(0.25);
        assertThat(KernelCheck.relativeError(Tensor.fromDoubles(new double[]{2.5, -4, 1, 0.5}, 4), ref)).isEqualTo(0.125);
        assertThat(KernelCheck.relativeError(ref, ref)).isZero();
        assertThat(KernelCheck.relativeError(Tensor.fromDoubles(new double[]{2, Double.NaN, 1, 0.5}, 4), ref)).isNaN();
        // an all-zero reference: the plain difference
        assertThat(KernelCheck.relativeError(Tensor.fromDoubles(new double[]{0, 0.5, 0, -0.25}, 4), Tensor.zeros(DType.FLOAT64, Device.CPU, 4)))
                .isEqualTo(0.5);

        SplittableRandom rng = new SplittableRandom(18);
        Tensor x = Tensor.fromDoubles(KernelCheck.gaussian(rng, 2 * 3 * 8 * 8), 2, 3, 8, 8).requiresGrad(true);
        Tensor w = Tensor.fromDoubles(KernelCheck.gaussian(rng, 4 * 3 * 3 * 3), 4, 3, 3, 3);
        Tensor g = Autograd.grad(Ops.conv2d(x, w, null, 1, 1).sin().sum(), x, false);
        assertThat(KernelCheck.relativeError(g.mul(1.1), g)).as("10%% too large").isCloseTo(0.1, within(1e-12));
        assertThat(KernelCheck.relativeError(g.neg(), g)).as("of the wrong sign").isCloseTo(2.0, within(1e-12));
        assertThat(KernelCheck.relativeError(g.mul(0), g)).as("zero").isCloseTo(1.0, within(1e-12));
    }

    /**
     * After start-up the convolutions in use pass the self-check (oneDNN's, padded where it pads, or the reference
     * kernels once oneDNN is off), and the measured errors are float32 rounding: not zero, far below the tolerance.
     */
    @Test
    void theKernelsInUsePassTheSelfCheckByARoundingSizedMargin() {
        double conv = KernelCheck.worstConvError();
        assertThat(conv).isGreaterThan(1e-9).isLessThan(1e-4);
        assertThat(KernelCheck.passes()).isTrue();
        assertThat(KernelCheck.worstOddChannelError()).isGreaterThan(1e-9).isLessThan(1e-4);
        // the residual blocks with batch norm, on 2 → 4 channels (NCHW) and 8 → 16 (channels-last where it is on)
        assertThat(KernelCheck.worstBlockError()).isGreaterThan(1e-9).isLessThan(1e-4);
    }

    private static double[] errors(SplittableRandom rng, int in, int out, int stride, int pad) {
        double[] x = new double[3 * in * 11 * 11], w = new double[out * in * 9];
        for (int i = 0; i < x.length; i++) x[i] = rng.nextGaussian();
        for (int i = 0; i < w.length; i++) w[i] = rng.nextGaussian();
        Tensor[] ref = null;
        double[] err = new double[3];
        for (DType dt : new DType[]{DType.FLOAT64, DType.FLOAT32}) {
            Tensor xt = Tensor.fromDoubles(x, 3, in, 11, 11).to(dt).requiresGrad(true);
            Tensor wt = Tensor.fromDoubles(w, out, in, 3, 3).to(dt).requiresGrad(true);
            Tensor y = Ops.conv2d(xt, wt, null, stride, pad);
            Tensor weights = y.detach().to(DType.FLOAT64).sin().to(dt);
            List<Tensor> g = Autograd.grad(List.of(y.mul(weights).sum()), List.of(xt, wt), null, false, false);
            Tensor[] cur = {y.to(DType.FLOAT64), g.get(0).to(DType.FLOAT64), g.get(1).to(DType.FLOAT64)};
            if (ref == null) ref = cur;
            else for (int k = 0; k < 3; k++) err[k] = cur[k].sub(ref[k]).abs().max().item() / (1e-12 + ref[k].abs().max().item());
        }
        return err;
    }
}
