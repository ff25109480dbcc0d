package dev.tikhon.engine;

import java.util.List;
import java.util.SplittableRandom;

/**
 * A start-up self-check of the float32 convolution kernels against float64.
 *
 * <p>Why: on some AVX2/AVX-512 hosts the oneDNN kernels bundled with libtorch 2.10 (bytedeco 1.5.13)
 * computed wrong float32 convolution <em>input</em> gradients for many layer shapes (relative errors of
 * 10–100% and NaN, varying from run to run and with the thread count), while on others (this repository's
 * AMD EPYC VM since 2026-12-04) the same kernels are right everywhere ({@code tikhon bench conv-check},
 * docs/engine.md). Every method in Tikhon differentiates with respect to the input, so at each thread count
 * it runs with, Tikhon checks that float32 outputs, input gradients and weight gradients agree with float64,
 * on small probes and on the built-in models' own layer shapes; if they do not, it turns oneDNN off (slower,
 * but right) and {@link Engine} caps later processes on the host at AVX.
 */
final class KernelCheck {
    private static final double TOLERANCE = 1e-4;
    /** in channels, out channels, kernel, stride, padding, batch, input side. */
    private static final int[][] SHAPES = {
            // small random probes (the shapes that failed on AVX2/AVX-512 hosts: docs/engine.md)
            {1, 4, 3, 1, 0, 2, 10}, {3, 5, 3, 1, 1, 2, 10}, {16, 8, 3, 1, 1, 2, 10}, {1, 8, 3, 2, 1, 2, 10}, {8, 17, 3, 1, 0, 2, 10},
            // one channel into a strided 1×1 kernel: its weight gradient was wrong channels-last on an AMD EPYC host (Ops#conv2d)
            {1, 4, 1, 2, 0, 2, 8},
            // the built-in models' convolutions on 28×28 inputs, at a small batch: the small CNN's two layers and
            // ResNet-20's stem, stride-1 and stride-2 3×3 layers and 1×1 shortcuts
            {1, 32, 3, 1, 0, 4, 28}, {32, 64, 3, 1, 0, 4, 26}, {1, 16, 3, 1, 1, 4, 28}, {16, 16, 3, 1, 1, 4, 28},
            {16, 32, 3, 2, 1, 4, 28}, {32, 32, 3, 1, 1, 4, 14}, {32, 64, 3, 2, 1, 4, 14}, {64, 64, 3, 1, 1, 4, 7},
            {16, 32, 1, 2, 0, 4, 28}, {32, 64, 1, 2, 0, 4, 14}};

    private KernelCheck() {}

    /**
     * The largest relative error of float32 convolution outputs, input gradients and weight gradients
     * (through {@link Ops#conv2d}, so with the kernels and padding Tikhon uses) against float64 over the probe shapes.
     */
    static double worstConvError() {
        double worst = 0;
        SplittableRandom rng = new SplittableRandom(20261125);
        try (Scope s = Scope.open()) {
            for (int[] c : SHAPES) {
                int in = c[0], out = c[1], k = c[2], batch = c[5], side = c[6];
                double[] x = gaussian(rng, batch * in * side * side), w = gaussian(rng, out * in * k * k);
                Tensor x64 = Tensor.fromDoubles(x, batch, in, side, side), w64 = Tensor.fromDoubles(w, out, in, k, k);
                Tensor[] g64 = grads(x64, w64, c[3], c[4], null);
                Tensor[] g32 = grads(x64.to(DType.FLOAT32), w64.to(DType.FLOAT32), c[3], c[4], g64[3]);
                for (int i = 0; i < 3; i++) {
                    double e = relativeError(g32[i].to(DType.FLOAT64), g64[i]);
                    worst = Math.max(worst, e);   // NaN, once seen, stays (Math.max keeps it)
                }
            }
        }
        return worst;
    }

    /** Output, input gradient, weight gradient and the output weighting used (float64's, reused for float32). */
    private static Tensor[] grads(Tensor x, Tensor w, int stride, int padding, Tensor weighting) {
        Tensor xg = x.copy().requiresGrad(true), wg = w.copy().requiresGrad(true);
        Tensor out = Ops.conv2d(xg, wg, null, stride, padding);
        Tensor weights = weighting != null ? weighting.to(out.dtype()) : out.detach().sin();   // fixed, non-uniform
        List<Tensor> g = Autograd.grad(List.of(out.mul(weights).sum()), List.of(xg, wg), null, false, false);
        return new Tensor[]{out.detach(), g.get(0), g.get(1), weights};
    }

    /**
     * The error measure of the self-check and of {@link ConvSweep}: the largest absolute difference between
     * {@code got} and the reference {@code ref}, relative to the largest magnitude in {@code ref} (the plain largest
     * difference when {@code ref} is all zero); NaN when either holds a NaN.
     */
    static double relativeError(Tensor got, Tensor ref) {
        double scale = ref.abs().max().item();
        return got.sub(ref).abs().max().item() / (scale == 0 ? 1 : scale);
    }

    static double[] gaussian(SplittableRandom rng, int n) {
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
                        for (int k = 0; k < 3; k++) worst = Math.max(worst, relativeError(cur[k], ref[k]));
                    }
                }
            }
        }
        return worst;
    }

    /**
     * The largest relative error of a float32 residual block with batch normalization (training mode) against float64:
     * 3×3 stride-2 convolution, batch norm, ReLU, 3×3 convolution, batch norm, plus a 1×1 stride-2 projection with its batch
     * norm, on 8×8 inputs, 2 → 4 channels (convolved NCHW, {@link Ops#CHANNELS_LAST_MIN}) and 8 → 16; outputs and the gradients of the input, the convolutions' weights and the
     * batch norms' scales and shifts. The convolution probes alone passed on an AMD EPYC host (2026-12-07) where this block,
     * channels-last, had gradients wrong by 50–200% at the CPU's own ISA (AVX2), and right in NCHW or at the AVX cap.
     */
    static double worstBlockError() {
        double worst = 0;
        SplittableRandom rng = new SplittableRandom(20261207);
        int[][] blocks = {{2, 4, 2}, {8, 16, 4}};   // in, out, batch
        try (Scope s = Scope.open()) {
            for (int[] b : blocks) {
                int in = b[0], out = b[1], n = b[2];
                double[] x = gaussian(rng, n * in * 8 * 8), w1 = gaussian(rng, out * in * 9), w2 = gaussian(rng, out * out * 9),
                        wp = gaussian(rng, out * in), scale = gaussian(rng, 3 * out), shift = gaussian(rng, 3 * out);
                List<Tensor> ref = null;
                for (DType dt : new DType[]{DType.FLOAT64, DType.FLOAT32}) {
                    List<Tensor> leaves = List.of(Tensor.fromDoubles(x, n, in, 8, 8).to(dt), Tensor.fromDoubles(w1, out, in, 3, 3).to(dt),
                            Tensor.fromDoubles(w2, out, out, 3, 3).to(dt), Tensor.fromDoubles(wp, out, in, 1, 1).to(dt),
                            Tensor.fromDoubles(scale, 3 * out).to(dt), Tensor.fromDoubles(shift, 3 * out).to(dt));
                    for (Tensor t : leaves) t.requiresGrad(true);
                    Tensor g = leaves.get(4), h = leaves.get(5);
                    Tensor a = Ops.batchNorm(Ops.conv2d(leaves.get(0), leaves.get(1), null, 2, 1), g.narrow(0, 0, out), h.narrow(0, 0, out),
                            null, null, true, 0.1, 1e-5).relu();
                    Tensor main = Ops.batchNorm(Ops.conv2d(a, leaves.get(2), null, 1, 1), g.narrow(0, out, out), h.narrow(0, out, out),
                            null, null, true, 0.1, 1e-5);
                    Tensor skip = Ops.batchNorm(Ops.conv2d(leaves.get(0), leaves.get(3), null, 2, 0), g.narrow(0, 2 * out, out),
                            h.narrow(0, 2 * out, out), null, null, true, 0.1, 1e-5);
                    Tensor y = main.add(skip).relu();
                    Tensor weights = y.detach().to(DType.FLOAT64).cos().to(dt);
                    List<Tensor> cur = new java.util.ArrayList<>(List.of(y.detach().to(DType.FLOAT64)));
                    for (Tensor d : Autograd.grad(List.of(y.mul(weights).sum()), leaves, null, false, false)) cur.add(d.to(DType.FLOAT64));
                    if (ref == null) {
                        ref = cur;
                    } else {
                        for (int k = 0; k < cur.size(); k++) {
                            double e = relativeError(cur.get(k), ref.get(k));
                            worst = Math.max(worst, e);   // NaN, once seen, stays (Math.max keeps it)
                        }
                    }
                }
            }
        }
        return worst;
    }

    /** The worse of {@link #worstConvError} and {@link #worstBlockError} (NaN where either is). */
    static double worstError() {
        return Math.max(worstConvError(), worstBlockError());   // NaN where either is
    }

    static boolean passes() {
        return worstError() < TOLERANCE;
    }
}
