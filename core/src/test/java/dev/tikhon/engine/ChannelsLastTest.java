package dev.tikhon.engine;

import dev.tikhon.UserError;
import dev.tikhon.models.Models;
import dev.tikhon.nn.Module;
import org.bytedeco.pytorch.global.torch;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * Channels-last float32 convolutions on the CPU ({@link Ops#conv2d}) are a layout, not a different function: outputs
 * and both gradients match the NCHW path and float64, the layout really is channels-last (oneDNN convolves without
 * reorders only then), and {@link Ops#flattenFeatures} hands max pooling a gradient in its own layout.
 */
class ChannelsLastTest {

    @Test
    void onByDefaultWhereOneDnnPassedItsSelfCheck() {
        Engine.init();
        if (!Engine.kernels().startsWith("oneDNN")) return;   // reference kernels: nothing to lay out
        assertThat(Engine.channelsLast()).isTrue();
        assertThat(Engine.kernels()).contains("channels-last");
    }

    @Test
    void theVariableTakesOneOrZero() {
        assertThat(Engine.channelsLastWanted((String) null)).isTrue();
        assertThat(Engine.channelsLastWanted("")).isTrue();
        assertThat(Engine.channelsLastWanted("1")).isTrue();
        assertThat(Engine.channelsLastWanted("0")).isFalse();
        assertThatThrownBy(() -> Engine.channelsLastWanted("yes")).isInstanceOf(UserError.class)
                .hasMessageContaining("TIKHON_CHANNELS_LAST=yes").hasMessageContaining("use 1").hasMessageContaining("or 0");
    }

    @Test
    void convolutionsMatchNchwAndFloat64AndRunChannelsLast() {
        Engine.init();
        if (!Engine.channelsLast()) return;
        SplittableRandom rng = new SplittableRandom(7);
        // in-channels 1 (a grey image: libtorch keeps NCHW strides for it unless viewed), 3 (NCHW: below
        // Ops.CHANNELS_LAST_MIN), 8, 17 (zero-padded to 24, which must keep the layout), 32; strides 1, 2; paddings 0, 1
        for (int in : new int[]{1, 3, 8, 17, 32}) for (int stride : new int[]{1, 2}) for (int padding : new int[]{0, 1}) {
            double[] x = gaussian(rng, 4 * in * 11 * 11), w = gaussian(rng, 16 * in * 9), b = gaussian(rng, 16);
            Tensor[] f64 = conv(x, w, b, in, stride, padding, DType.FLOAT64);
            Tensor[] cl = conv(x, w, b, in, stride, padding, DType.FLOAT32);
            Engine.channelsLast = false;
            Tensor[] nchw;
            try {
                nchw = conv(x, w, b, in, stride, padding, DType.FLOAT32);
            } finally {
                Engine.channelsLast = true;
            }
            String what = "in " + in + ", stride " + stride + ", padding " + padding;
            boolean channelsLast = in == 1 || in >= Ops.CHANNELS_LAST_MIN;
            assertThat(cl[0].t.is_contiguous(torch.MemoryFormat.ChannelsLast) && !cl[0].t.is_contiguous())
                    .as((channelsLast ? "channels-last" : "NCHW") + " output, " + what).isEqualTo(channelsLast);
            assertThat(nchw[0].t.is_contiguous()).as("NCHW output with the layout off, " + what).isTrue();
            for (int i = 0; i < 4; i++) {
                assertThat(KernelCheck.relativeError(cl[i].to(DType.FLOAT64), f64[i])).as("part %d against float64, %s", i, what).isLessThan(1e-4);
                assertThat(KernelCheck.relativeError(cl[i].to(DType.FLOAT64), nchw[i].to(DType.FLOAT64))).as("part %d against NCHW, %s", i, what)
                        .isLessThan(1e-4);   // float32 sums in another order: about 1e-5 apart
            }
        }
    }

    /**
     * One channel into a 1×1 kernel of stride 2 (8×8 inputs, no padding): channels-last, its float32 weight gradient was
     * wrong by 14–190% on an AMD EPYC host (AVX2), so it is convolved NCHW, in the square and the per-axis (ONNX) form.
     */
    @Test
    void oneChannelIntoAStridedOneByOneKernelIsConvolvedNchwAndRight() {
        Engine.init();
        if (!Engine.channelsLast()) return;
        SplittableRandom rng = new SplittableRandom(11);
        for (int trial = 0; trial < 3; trial++) for (boolean perAxis : new boolean[]{false, true}) {
            double[] x = gaussian(rng, 2 * 8 * 8), w = gaussian(rng, 4);
            Tensor[] ref = null;
            for (DType dt : new DType[]{DType.FLOAT64, DType.FLOAT32}) {
                Tensor xt = Tensor.fromDoubles(x, 2, 1, 8, 8).to(dt).requiresGrad(true);
                Tensor wt = Tensor.fromDoubles(w, 4, 1, 1, 1).to(dt).requiresGrad(true);
                Tensor out = perAxis ? Ops.conv2d(xt, wt, null, new long[]{2, 2}, new long[]{0, 0}, new long[]{1, 1}, 1)
                        : Ops.conv2d(xt, wt, null, 2, 0);
                Tensor weights = out.detach().to(DType.FLOAT64).cos().to(dt);
                List<Tensor> g = Autograd.grad(List.of(out.mul(weights).sum()), List.of(xt, wt), null, false, false);
                Tensor[] got = {out.detach().to(DType.FLOAT64), g.get(0).to(DType.FLOAT64), g.get(1).to(DType.FLOAT64)};
                if (ref == null) {
                    ref = got;
                    continue;
                }
                String what = "trial " + trial + (perAxis ? ", per-axis form" : ", square form");
                assertThat(out.t.is_contiguous()).as("NCHW output, " + what).isTrue();
                for (int i = 0; i < 3; i++) {
                    assertThat(KernelCheck.relativeError(got[i], ref[i])).as("part %d against float64, %s", i, what).isLessThan(1e-4);
                }
            }
        }
    }

    @Test
    void flatteningKeepsTheGradientInTheInputsLayout() {
        Tensor x = new Tensor(Tensor.randn(2, 5, 4, 3).t.contiguous(torch.MemoryFormat.ChannelsLast)).requiresGrad(true);
        Tensor weights = Tensor.randn(2, 60);
        Tensor y = Ops.flattenFeatures(x);
        assertThat(y.shape()).containsExactly(2, 60);
        assertThat(y.detach().toDoubleArray()).containsExactly(x.detach().contiguous().toDoubleArray());   // NCHW order
        Tensor g = Autograd.grad(List.of(y.mul(weights).sum()), List.of(x), null, false, false).get(0);
        assertThat(g.t.is_contiguous(torch.MemoryFormat.ChannelsLast) && !g.t.is_contiguous()).as("channels-last gradient").isTrue();
        assertThat(g.contiguous().toDoubleArray()).containsExactly(weights.reshape(2, 5, 4, 3).toDoubleArray());
    }

    @Test
    void theSmallCnnsLossAndParameterGradientsAreTheSameEitherWay() {
        Engine.init();
        if (!Engine.channelsLast()) return;
        Module model = Models.build(Models.spec("cnn", List.of(1L, 28L, 28L), 10, Map.of()));
        Tensor x = Tensor.rand(DType.FLOAT32, Device.CPU, 16, 1, 28, 28), y = Tensor.randint(10, Device.CPU, 16);
        double[][] cl = lossAndGradients(model, x, y);
        Engine.channelsLast = false;
        double[][] nchw;
        try {
            nchw = lossAndGradients(model, x, y);
        } finally {
            Engine.channelsLast = true;
        }
        assertThat(cl[0][0]).isCloseTo(nchw[0][0], org.assertj.core.api.Assertions.within(1e-5 * Math.abs(nchw[0][0])));
        for (int i = 1; i < cl.length; i++) {
            double scale = 0, diff = 0;
            for (int j = 0; j < cl[i].length; j++) {
                scale = Math.max(scale, Math.abs(nchw[i][j]));
                diff = Math.max(diff, Math.abs(cl[i][j] - nchw[i][j]));
            }
            assertThat(diff / scale).as("parameter %d's gradient", i - 1).isLessThan(1e-5);
        }
    }

    private static double[][] lossAndGradients(Module model, Tensor x, Tensor y) {
        try (Scope s = Scope.open()) {
            Tensor loss = Ops.crossEntropy(model.forward(x), y);
            List<Tensor> params = new ArrayList<>();
            for (var p : model.parameters()) params.add(p.value());
            List<Tensor> g = Autograd.grad(List.of(loss), params, null, false, false);
            List<double[]> out = new ArrayList<>();
            out.add(new double[]{loss.item()});
            for (Tensor t : g) out.add(t.contiguous().toDoubleArray());
            return out.toArray(new double[0][]);
        }
    }

    /** Output, input gradient, weight gradient and bias gradient of a convolution under a fixed output weighting. */
    private static Tensor[] conv(double[] x, double[] w, double[] b, int in, int stride, int padding, DType dt) {
        Tensor xt = Tensor.fromDoubles(x, 4, in, 11, 11).to(dt).requiresGrad(true);
        Tensor wt = Tensor.fromDoubles(w, 16, in, 3, 3).to(dt).requiresGrad(true);
        Tensor bt = Tensor.fromDoubles(b, 16).to(dt).requiresGrad(true);
        Tensor out = Ops.conv2d(xt, wt, bt, stride, padding);
        Tensor weights = out.detach().to(DType.FLOAT64).cos().to(dt);
        List<Tensor> g = Autograd.grad(List.of(out.mul(weights).sum()), List.of(xt, wt, bt), null, false, false);
        return new Tensor[]{out.detach(), g.get(0), g.get(1), g.get(2)};
    }

    private static double[] gaussian(SplittableRandom rng, int n) {
        double[] v = new double[n];
        for (int i = 0; i < v.length; i++) v[i] = rng.nextGaussian();
        return v;
    }
}
