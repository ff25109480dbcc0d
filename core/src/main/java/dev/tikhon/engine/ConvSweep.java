package dev.tikhon.engine;

import org.bytedeco.pytorch.global.torch;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

/**
 * A diagnostic sweep of libtorch's float32 convolutions against float64 (the evidence behind
 * {@link KernelCheck} and docs/engine.md): forward outputs, weight gradients and input gradients of
 * {@code conv2d} over a grid of shapes, in NCHW and channels-last memory formats, at given thread counts.
 *
 * <p>It calls {@code torch.conv2d} directly (no channel padding, no memory-format choice of {@link Ops#conv2d})
 * and turns oneDNN back on if the start-up self-check turned it off, so it sees the raw kernels of the
 * process's oneDNN ISA cap ({@code ONEDNN_MAX_CPU_ISA}, read once per process: sweep each cap in its own process).
 * float64 convolutions never run on oneDNN, so they are the reference. Errors are relative to the largest
 * float64 magnitude of the same tensor.
 */
public final class ConvSweep {
    /** One convolution: in/out channels, square kernel, stride, padding, batch, square input side. */
    public record Shape(int in, int out, int kernel, int stride, int padding, int batch, int side) {
        @Override public String toString() {
            return "in " + in + " out " + out + " k" + kernel + " s" + stride + " p" + padding + " batch " + batch + " " + side + "x" + side;
        }
    }

    /** Errors of one shape at one memory format and thread count; NaN errors are reported as NaN. */
    public record Result(Shape shape, boolean channelsLast, int threads, double forwardRel, double weightGradRel,
                         double inputGradRel, double inputGradAbs) {
        public double worst() {
            return Double.isNaN(forwardRel + weightGradRel + inputGradRel) ? Double.NaN
                    : Math.max(forwardRel, Math.max(weightGradRel, inputGradRel));
        }
    }

    private ConvSweep() {}

    /** The process's oneDNN ISA cap as set in the environment ("default" when unset). */
    public static String isaCap() {
        Engine.init();
        return torch.get_env("ONEDNN_MAX_CPU_ISA").has_value() ? torch.get_env("ONEDNN_MAX_CPU_ISA").get().getString() : "default";
    }

    /**
     * Runs every shape at every thread count in both memory formats (or only those asked for). Leaves oneDNN
     * on and libtorch at the last thread count: meant for a process of its own ({@code tikhon bench conv-check}).
     */
    public static List<Result> run(List<Shape> shapes, int[] threadCounts, boolean nchw, boolean channelsLast, long seed) {
        Engine.init();
        torch.globalContext().setUserEnabledMkldnn(true);
        List<Result> out = new ArrayList<>();
        SplittableRandom rng = new SplittableRandom(seed);
        for (Shape s : shapes) {
            try (Scope scope = Scope.open()) {
                Tensor x = Tensor.fromDoubles(KernelCheck.gaussian(rng, Math.toIntExact((long) s.batch * s.in * s.side * s.side)), s.batch, s.in, s.side, s.side);
                Tensor w = Tensor.fromDoubles(KernelCheck.gaussian(rng, s.out * s.in * s.kernel * s.kernel), s.out, s.in, s.kernel, s.kernel);
                torch.set_num_threads(threadCounts[0]);
                Tensor[] ref = grads(x, w, s, false, null);
                for (int t : threadCounts) {
                    torch.set_num_threads(t);
                    for (boolean cl : new boolean[]{false, true}) {
                        if (cl ? !channelsLast : !nchw) continue;
                        Tensor[] g = grads(x.to(DType.FLOAT32), w.to(DType.FLOAT32), s, cl, ref[3]);
                        out.add(new Result(s, cl, t, KernelCheck.relativeError(g[0], ref[0]),
                                KernelCheck.relativeError(g[2], ref[2]), KernelCheck.relativeError(g[1], ref[1]),
                                g[1].to(DType.FLOAT64).sub(ref[1]).abs().max().item()));
                    }
                }
            }
        }
        return out;
    }

    /** Output, input gradient, weight gradient (and, for float64, the output weighting used). */
    private static Tensor[] grads(Tensor x, Tensor w, Shape s, boolean channelsLast, Tensor weighting) {
        Tensor xg = (channelsLast ? channelsLast(x) : x.copy()).requiresGrad(true);
        Tensor wg = (channelsLast ? channelsLast(w) : w.copy()).requiresGrad(true);
        Tensor y = new Tensor(torch.conv2d(xg.t, wg.t, new org.bytedeco.pytorch.TensorOptional(),
                new long[]{s.stride, s.stride}, new long[]{s.padding, s.padding}, new long[]{1, 1}, 1));
        // A fixed, non-uniform output weighting, the same for both precisions.
        Tensor weights = weighting != null ? weighting.to(y.dtype()) : y.detach().sin();
        List<Tensor> g = Autograd.grad(List.of(y.mul(weights).sum()), List.of(xg, wg), null, false, false);
        return new Tensor[]{y.detach().to(DType.FLOAT64), g.get(0).to(DType.FLOAT64), g.get(1).to(DType.FLOAT64), weights};
    }

    static Tensor channelsLast(Tensor t) {
        return new Tensor(t.t.contiguous(torch.MemoryFormat.ChannelsLast));
    }
}
