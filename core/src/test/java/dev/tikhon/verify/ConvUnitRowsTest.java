package dev.tikhon.verify;

import dev.tikhon.engine.ConvGeometry;
import dev.tikhon.engine.DType;
import dev.tikhon.engine.Device;
import dev.tikhon.engine.Rng;
import dev.tikhon.engine.Scope;
import dev.tikhon.engine.Tensor;
import org.junit.jupiter.api.Test;

import java.util.Random;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * A convolution's step back from coefficient rows each on one output unit, written by index
 * ({@link Layers.Conv#backwardUnitRows}), against its step back through the transposed convolution
 * ({@link Layers.Conv#backward}), in float64: the same coefficients on the input and the same constants, for strides,
 * paddings and dilations per axis, groups (depthwise included), inputs a strided convolution leaves a border of, and
 * coefficients of one example or several.
 */
class ConvUnitRowsTest {
    private static final DType F64 = DType.FLOAT64;

    @Test
    void rowsPlacedByIndexEqualTheTransposedConvolution() {
        Rng.seed(3);
        Random random = new Random(3);
        long[][] strides = {{1, 1}, {2, 2}, {2, 1}, {3, 2}}, pads = {{0, 0}, {1, 1}, {2, 0}}, dilations = {{1, 1}, {2, 1}};
        long[][] kernels = {{1, 1}, {3, 3}, {2, 3}};
        int cases = 0;
        for (long[] stride : strides) {
            for (long[] pad : pads) {
                for (long[] dilation : dilations) {
                    for (long[] kernel : kernels) {
                        for (long groups : new long[]{1, 2, 4}) {
                            long cIn = 4, cOut = groups == 4 ? 4 : 6;
                            long h = 6 + random.nextInt(4), w = 5 + random.nextInt(4);
                            ConvGeometry g = new ConvGeometry(stride, pad, dilation, groups);
                            if (g.outSize(0, h, kernel[0]) < 1 || g.outSize(1, w, kernel[1]) < 1) continue;
                            long batch = cases % 3 == 0 ? 3 : 1;
                            check(g, cIn, cOut, kernel, h, w, batch, random, cases % 2 == 0);
                            cases++;
                        }
                    }
                }
            }
        }
        assertThat(cases).isGreaterThan(150);
    }

    private static void check(ConvGeometry g, long cIn, long cOut, long[] kernel, long h, long w, long batch, Random random, boolean withBias) {
        try (Scope s = Scope.open()) {
            Tensor weight = Tensor.randn(F64, Device.CPU, cOut, cIn / g.groups(), kernel[0], kernel[1]);
            Tensor bias = withBias ? Tensor.randn(F64, Device.CPU, cOut) : null;
            Layers.Conv conv = new Layers.Conv(weight, bias, g);
            Trace trace = new Trace(LowerSlope.ADAPTIVE);
            Tensor x = Tensor.randn(F64, Device.CPU, 2, cIn, h, w);
            Interval out = conv.ibp(Interval.ofCentre(x, x.abs()), trace);
            long[] shape = out.exampleShape();
            long units = shape[0] * shape[1] * shape[2];
            int rows = 1 + random.nextInt((int) Math.min(units, 12));
            long[] picked = new long[rows];
            double[] hot = new double[(int) (batch * rows * units)];
            for (int r = 0; r < rows; r++) {
                picked[r] = random.nextInt((int) units);
                for (int e = 0; e < batch; e++) hot[(int) ((e * rows + r) * units + picked[r])] = random.nextGaussian();
            }
            Tensor a = Tensor.fromDoubles(hot, batch, rows, shape[0], shape[1], shape[2]);
            Trace.Sum viaTranspose = new Trace.Sum(), byIndex = new Trace.Sum();
            Tensor expected = conv.backward(a, trace, viaTranspose);
            Tensor actual = conv.backwardUnitRows(a, picked, trace, byIndex);
            String where = g + ", kernel " + kernel[0] + "×" + kernel[1] + ", input " + h + "×" + w + ", batch " + batch;
            assertThat(actual.shape()).as(where).containsExactly(expected.shape());
            assertThat(actual.sub(expected).abs().max().item()).as(where).isLessThan(1e-12);
            Tensor zero = Tensor.zeros(F64, Device.CPU, batch, rows);
            assertThat(byIndex.value(zero).sub(viaTranspose.value(zero)).abs().max().item()).as(where + " constants").isLessThan(1e-12);
        }
    }
}
