package dev.tikhon.engine;

import java.util.List;
import java.util.SplittableRandom;

/**
 * A start-up self-check of the float32 convolution kernels against float64.
 *
 * <p>Why: on AVX2/AVX-512 CPUs the oneDNN kernels bundled with libtorch 2.10 (bytedeco
 * 1.5.13) compute wrong float32 convolution <em>input</em> gradients for many layer shapes
 * (relative errors of 10–100%, varying with the thread count; forward passes and weight gradients
 * are right). Every method in Tikhon differentiates with respect to the input, so Tikhon caps
 * oneDNN at AVX ({@code ONEDNN_MAX_CPU_ISA=AVX}, where the kernels are right) and checks here,
 * at each thread count it runs with, that float32 input gradients agree with float64. If they do
 * not (another CPU, or the cap overridden), it turns oneDNN off: slower, but right.
 */
final class KernelCheck {
    private static final double TOLERANCE = 1e-4;
    private static final int[][] SHAPES = {  // in channels, out channels, stride, padding
            {1, 4, 1, 0}, {3, 5, 1, 1}, {16, 8, 1, 1}, {1, 8, 2, 1}, {8, 17, 1, 0}};

    private KernelCheck() {}

    /** The largest relative error of float32 conv input gradients over the probe shapes. */
    static double worstConvInputGradError() {
        double worst = 0;
        SplittableRandom rng = new SplittableRandom(20261125);
        try (Scope s = Scope.open()) {
            for (int[] c : SHAPES) {
                double[] x = gaussian(rng, 2 * c[0] * 10 * 10), w = gaussian(rng, c[1] * c[0] * 9);
                Tensor x64 = Tensor.fromDoubles(x, 2, c[0], 10, 10), w64 = Tensor.fromDoubles(w, c[1], c[0], 3, 3);
                Tensor g64 = inputGrad(x64, w64, c[2], c[3]);
                Tensor g32 = inputGrad(x64.to(DType.FLOAT32), w64.to(DType.FLOAT32), c[2], c[3]).to(DType.FLOAT64);
                worst = Math.max(worst, g32.sub(g64).abs().max().item() / g64.abs().max().item());
            }
        }
        return worst;
    }

    private static Tensor inputGrad(Tensor x, Tensor w, int stride, int padding) {
        Tensor xg = x.copy().requiresGrad(true);
        Tensor out = Ops.conv2d(xg, w, null, stride, padding);
        Tensor weights = out.detach().sin();   // a fixed, non-uniform output weighting
        return Autograd.grad(List.of(out.mul(weights).sum()), List.of(xg), null, false, false).get(0);
    }

    private static double[] gaussian(SplittableRandom rng, int n) {
        double[] v = new double[n];
        for (int i = 0; i < n; i++) v[i] = rng.nextGaussian();
        return v;
    }

    /**
     * The largest relative error of float32 convolution outputs, input gradients and weight
     * gradients, against float64, on probe shapes whose input-channel counts are above 8 and not
     * multiples of 8 (9, 12, 19, 35: a FarkasNet's widths). On this machine's libtorch 2.10 oneDNN all
     * three are wrong there (relative errors 0.3–0.9, at the AVX cap too), and right once the input
     * is zero-padded to a multiple of 8 channels (which {@link Ops#conv2d} then does).
     */
    static double worstOddChannelError() {
        double worst = 0;
        SplittableRandom rng = new SplittableRandom(20261126);
        int[][] shapes = {{9, 4, 3, 1}, {12, 16, 3, 1}, {19, 13, 3, 1}, {35, 32, 1, 0}, {35, 36, 3, 1}};  // in, out, kernel, padding
        try (Scope s = Scope.open()) {
            for (int[] c : shapes) {
                double[] x = gaussian(rng, 2 * c[0] * 7 * 7), w = gaussian(rng, c[1] * c[0] * c[2] * c[2]);
                Tensor[] ref = null;
                for (DType dt : new DType[]{DType.FLOAT64, DType.FLOAT32}) {
                    Tensor xt = Tensor.fromDoubles(x, 2, c[0], 7, 7).to(dt).requiresGrad(true);
                    Tensor wt = Tensor.fromDoubles(w, c[1], c[0], c[2], c[2]).to(dt).requiresGrad(true);
                    Tensor y = Ops.conv2d(xt, wt, null, 1, c[3]);
                    Tensor weights = y.detach().to(DType.FLOAT64).sin().to(dt);
                    List<Tensor> g = Autograd.grad(List.of(y.mul(weights).sum()), List.of(xt, wt), null, false, false);
                    Tensor[] cur = {y.to(DType.FLOAT64), g.get(0).to(DType.FLOAT64), g.get(1).to(DType.FLOAT64)};
                    if (ref == null) {
                        ref = cur;
                    } else {
                        for (int k = 0; k < 3; k++) worst = Math.max(worst, cur[k].sub(ref[k]).abs().max().item() / ref[k].abs().max().item());
                    }
                }
            }
        }
        return worst;
    }

    static boolean passes() {
        return worstConvInputGradError() < TOLERANCE;
    }
}
