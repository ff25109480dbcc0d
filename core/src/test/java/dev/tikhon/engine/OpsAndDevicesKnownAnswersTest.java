package dev.tikhon.engine;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.util.HashSet;
import java.util.Set;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

/**
 * Oracles: hand-worked values and adjoint identities. The layer functions of {@link Ops} (linear, convolution and its
 * transpose, pooling, batch norm, the losses, dropout), device and element-type names, the seed derivation, and the
 * engine's facts.
 */
@ExtendWith(OneThread.class)
class OpsAndDevicesKnownAnswersTest {
    private static final double TOL = 1e-12;

    private static double[] v(Tensor t) { return t.toDoubleArray(); }

    private static Tensor img(double... v) {
        int side = (int) Math.round(Math.sqrt(v.length));
        return Tensor.fromDoubles(v, 1, 1, side, side);
    }

    /** The general forms the ONNX import uses: grouped and dilated convolution, pooling with padding and ceil mode, constant padding. */
    @Test
    void onnxFormsOfTheLayerFunctions() {
        long[] one = {1, 1}, two = {2, 2}, none = {0, 0};
        // two groups: each output channel sees only its own input channel (ones and twos), scaled by 3 and 5, plus bias
        Tensor x = Tensor.fromDoubles(new double[]{1, 1, 1, 1, 2, 2, 2, 2}, 1, 2, 2, 2);
        Tensor w = Tensor.fromDoubles(new double[]{3, 5}, 2, 1, 1, 1);
        assertThat(v(Ops.conv2d(x, w, Tensor.fromDoubles(new double[]{1, -1}, 2), one, none, one, 2))).containsExactly(4, 4, 4, 4, 9, 9, 9, 9);
        // dilation 2: a 2×2 kernel of ones sums the corners of each 3×3 window of 0..24
        Tensor ramp = Tensor.arange(25, DType.FLOAT64, Device.CPU).reshape(1, 1, 5, 5);
        Tensor dilated = Ops.conv2d(ramp, Tensor.ones(DType.FLOAT64, Device.CPU, 1, 1, 2, 2), null, one, none, two, 1);
        assertThat(dilated.shape()).containsExactly(1, 1, 3, 3);
        assertThat(v(dilated)[0]).isEqualTo(0 + 2 + 10 + 12);

        Tensor im = img(1, 2, 3, 4, 5, 6, 7, 8, 9);
        assertThat(v(Ops.maxPool2d(im, two, two, none, one, false))).containsExactly(5);
        assertThat(v(Ops.maxPool2d(im, two, two, none, one, true))).containsExactly(5, 6, 8, 9);
        assertThat(v(Ops.avgPool2d(im, two, one, none, false, true))).containsExactly(3, 4, 6, 7);
        // a window over one padded corner: 1 / 4 counting the padding, 1 without
        assertThat(v(Ops.avgPool2d(im, two, two, one, false, true))[0]).isEqualTo(0.25);
        assertThat(v(Ops.avgPool2d(im, two, two, one, false, false))[0]).isEqualTo(1.0);

        Tensor row = Tensor.fromDoubles(new double[]{1, 2, 3}, 3);
        assertThat(v(Ops.constantPad(row, new long[]{1, 2}, 9))).containsExactly(9, 1, 2, 3, 9, 9);
        assertThat(v(Ops.constantPad(row, new long[]{-1, 0}, 9))).containsExactly(2, 3);
    }

    @Test
    void layerFunctions() {
        Tensor x = Tensor.fromDoubles(new double[]{1, 2}, 1, 2), w = Tensor.fromDoubles(new double[]{1, 0, 1, -1, 2, 3}, 3, 2);
        assertThat(v(Ops.linear(x, w, null))).containsExactly(1, -1, 8);
        assertThat(v(Ops.linear(x, w, Tensor.fromDoubles(new double[]{1, 1, 1}, 3)))).containsExactly(2, 0, 9);

        Tensor im = img(1, 2, 3, 4, 5, 6, 7, 8, 9);
        Tensor k = img(1, 0, 0, 1);   // 2×2 kernel: top-left + bottom-right
        assertThat(v(Ops.conv2d(im, k, null, 1, 0))).containsExactly(6, 8, 12, 14);
        assertThat(v(Ops.conv2d(im, k, Tensor.fromDoubles(new double[]{10}, 1), 1, 0))).containsExactly(16, 18, 22, 24);
        assertThat(v(Ops.conv2d(im, k, null, 2, 0))).containsExactly(6);
        Tensor padded = Ops.conv2d(im, k, null, 1, 1);
        assertThat(padded.shape()).containsExactly(1, 1, 4, 4);
        assertThat(v(padded)[0]).isEqualTo(1);    // only the bottom-right tap sees x[0,0]
        assertThat(v(padded)[15]).isEqualTo(9);
        // the transpose: ⟨conv(x), y⟩ = ⟨x, convᵀ(y)⟩
        Rng.seed(1);
        Tensor a = Tensor.randn(DType.FLOAT64, Device.CPU, 1, 2, 5, 5), kern = Tensor.randn(DType.FLOAT64, Device.CPU, 3, 2, 3, 3);
        Tensor y = Tensor.randn(DType.FLOAT64, Device.CPU, 1, 3, 3, 3);
        double lhs = Ops.conv2d(a, kern, null, 2, 1).mul(y).sum().item();
        Tensor back = Ops.convTranspose2d(y, kern, 2, 1, 0);
        assertThat(back.shape()).containsExactly(1, 2, 5, 5);
        assertThat(a.mul(back).sum().item()).isCloseTo(lhs, within(1e-10));
        assertThat(Ops.convTranspose2d(y, kern, 2, 1, 1).shape()).containsExactly(1, 2, 6, 6);

        assertThat(v(Ops.maxPool2d(img(1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16), 2, 2))).containsExactly(6, 8, 14, 16);
        assertThat(v(Ops.avgPool2d(img(1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16), 2, 2))).containsExactly(3.5, 5.5, 11.5, 13.5);
        assertThat(v(Ops.maxPool2d(im, 2, 1))).containsExactly(5, 6, 8, 9);
        assertThat(v(Ops.globalAvgPool(Tensor.fromDoubles(new double[]{1, 2, 3, 4, 10, 20, 30, 40}, 1, 2, 2, 2)))).containsExactly(2.5, 25);
    }

    @Test
    void batchNormTrainsOnBatchStatisticsAndEvaluatesOnRunningOnes() {
        // one channel, values 1, 3 (mean 2, biased variance 1, unbiased 2)
        Tensor x = Tensor.fromDoubles(new double[]{1, 3}, 2, 1);
        Tensor mean = Tensor.zeros(DType.FLOAT64, Device.CPU, 1), var = Tensor.ones(DType.FLOAT64, Device.CPU, 1);
        Tensor w = Tensor.full(2, DType.FLOAT64, Device.CPU, 1), b = Tensor.full(0.5, DType.FLOAT64, Device.CPU, 1);
        assertThat(v(Ops.batchNorm(x, w, b, mean, var, true, 0.1, 0))).containsExactly(new double[]{-1.5, 2.5}, within(1e-12));
        assertThat(v(mean)).containsExactly(new double[]{0.2}, within(TOL));            // 0.9·0 + 0.1·2
        assertThat(v(var)).containsExactly(new double[]{0.9 + 0.1 * 2}, within(TOL));   // unbiased variance
        // evaluation: (x − 0.2) / √1.1 · 2 + 0.5, buffers untouched
        double s = Math.sqrt(1.1);
        assertThat(v(Ops.batchNorm(x, w, b, mean, var, false, 0.1, 0))).containsExactly(new double[]{0.8 / s * 2 + 0.5, 2.8 / s * 2 + 0.5}, within(1e-12));
        assertThat(v(mean)).containsExactly(new double[]{0.2}, within(TOL));
        assertThat(v(Ops.batchNorm(x, null, null, null, null, true, 0.1, 0))).containsExactly(new double[]{-1, 1}, within(1e-12));
    }

    @Test
    void lossesAndDropout() {
        Tensor logits = Tensor.fromDoubles(new double[]{0, Math.log(3), 0, 0}, 2, 2), labels = Tensor.fromLongs(new long[]{1, 0}, 2);
        double[] per = v(Ops.crossEntropyPerExample(logits, labels));
        assertThat(per).containsExactly(new double[]{-Math.log(0.75), Math.log(2)}, within(TOL));
        assertThat(Ops.crossEntropy(logits, labels).item()).isCloseTo((per[0] + per[1]) / 2, within(TOL));
        assertThat(Ops.mse(Tensor.fromDoubles(new double[]{1, 2}, 2), Tensor.fromDoubles(new double[]{0, 4}, 2)).item()).isCloseTo(2.5, within(TOL));
        Tensor ones = Tensor.ones(DType.FLOAT64, Device.CPU, 1000);
        assertThat(v(Ops.dropout(ones, 0.5, false))).containsOnly(1);
        Rng.seed(3);
        double[] d = v(Ops.dropout(ones, 0.25, true));
        int kept = 0;
        for (double e : d) {
            assertThat(e).isIn(0.0, 1 / 0.75);
            if (e > 0) kept++;
        }
        assertThat(kept).isBetween(700, 800);
    }

    @Test
    void devicesAndElementTypesByName() {
        assertThat(Device.parse(" CPU ")).isSameAs(Device.CPU);
        assertThat(Device.parse("auto")).isEqualTo(Engine.cudaAvailable() ? Device.cuda(0) : Device.CPU);
        assertThatThrownBy(() -> Device.parse("tpu")).hasMessageContaining("unknown device 'tpu'").hasMessageContaining("cpu, cuda, cuda:N or auto");
        assertThatThrownBy(() -> Device.parse("cuda:x")).hasMessageContaining("bad device 'cuda:x'");
        if (!Engine.cudaAvailable()) {
            assertThatThrownBy(() -> Device.parse("cuda:0")).hasMessageContaining("--device cuda");
            assertThatThrownBy(() -> Device.parse("gpu")).hasMessageContaining("--device cuda");
        }
        Device c1 = Device.cuda(1);
        assertThat(c1.isCuda()).isTrue();
        assertThat(c1.index()).isEqualTo(1);
        assertThat(c1).hasToString("cuda:1").isEqualTo(Device.cuda(1)).isNotEqualTo(Device.cuda(0)).isNotEqualTo(Device.CPU)
                .hasSameHashCodeAs(Device.cuda(1));
        assertThat(Device.CPU).hasToString("cpu");
        assertThat(Device.CPU.isCuda()).isFalse();
        assertThat(Device.CPU).isNotEqualTo("cpu");
        assertThat(Device.CPU.hashCode()).isNotEqualTo(Device.cuda(0).hashCode());

        assertThat(DType.parse("Float")).isEqualTo(DType.FLOAT32);
        assertThat(DType.parse("f32")).isEqualTo(DType.FLOAT32);
        assertThat(DType.parse("double")).isEqualTo(DType.FLOAT64);
        assertThat(DType.parse("float64")).isEqualTo(DType.FLOAT64);
        assertThat(DType.parse("f64")).isEqualTo(DType.FLOAT64);
        assertThatThrownBy(() -> DType.parse("half")).hasMessageContaining("unknown dtype 'half'");
        assertThat(DType.FLOAT32.isFloatingPoint()).isTrue();
        assertThat(DType.FLOAT64.isFloatingPoint()).isTrue();
        assertThat(DType.INT64.isFloatingPoint()).isFalse();
        assertThat(DType.UINT8.bytes).isEqualTo(1);
        assertThat(DType.FLOAT64.bytes).isEqualTo(8);
        for (DType t : new DType[]{DType.FLOAT32, DType.FLOAT64, DType.INT64, DType.INT32, DType.UINT8, DType.BOOL}) {
            assertThat(Tensor.zeros(DType.FLOAT64, Device.CPU, 2).to(t).dtype()).isEqualTo(t);
        }
    }

    @Test
    void derivedSeedsAreStableDistinctAndNonNegative() {
        assertThat(Rng.derive(7, 1, 2)).isEqualTo(Rng.derive(7, 1, 2));
        Set<Long> seen = new HashSet<>();
        for (long s = 0; s < 4; s++) for (long a = 0; a < 16; a++) for (long b = 0; b < 16; b++) seen.add(Rng.derive(s, a, b));
        assertThat(seen).hasSize(4 * 16 * 16);
        assertThat(seen).allSatisfy(x -> assertThat(x).isNotNegative());
        assertThat(Rng.derive(7, 1, 2)).isNotEqualTo(Rng.derive(7, 2, 1));
        assertThat(Rng.derive(7)).isNotEqualTo(Rng.derive(8));
        assertThat(Rng.derive(7, 0)).isNotEqualTo(Rng.derive(7));
        // a pinned value: the SplitMix64 finaliser, so seeds derived today stay the seeds of recorded runs
        assertThat(Rng.derive(0)).isEqualTo(mix(0x9E3779B97F4A7C15L) & Long.MAX_VALUE);
        assertThat(Rng.derive(5, 3)).isEqualTo(mix(mix(5 ^ 0x9E3779B97F4A7C15L) ^ mix(3 + 0x632BE59BD9B4E019L)) & Long.MAX_VALUE);
    }

    private static long mix(long z) {
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        return z ^ (z >>> 31);
    }

    @Test
    void engineFacts() {
        assertThat(Engine.threads()).isEqualTo(1);   // OneThread
        assertThatThrownBy(() -> Engine.setThreads(0)).hasMessageContaining("--threads must be at least 1");
        assertThat(Engine.libtorchVersion()).isEqualTo("2.10.0");
        assertThat(Engine.kernels()).isNotBlank();
        assertThat(Engine.parallelInfo()).isNotBlank();
        assertThat(Engine.cudaDeviceCount()).isEqualTo(Engine.cudaAvailable() ? Engine.cudaDeviceCount() : 0);
        var facts = Engine.describe();
        assertThat(facts).containsKeys("binding", "platform", "intraop_threads", "openblas_threads", "kernels", "cuda_available",
                "cuda_devices", "native_cache");
        assertThat(facts.get("intraop_threads")).isEqualTo(1);
        assertThat(facts.get("openblas_threads")).isEqualTo(1);
        assertThat((String) facts.get("binding")).startsWith("org.bytedeco:pytorch 2.10.0");
        assertThat(Engine.isDeviceMismatch(new RuntimeException("x", new RuntimeException("Expected all tensors to be on the same device, but ...")))).isTrue();
        assertThat(Engine.isDeviceMismatch(new RuntimeException("Input type (CUDAFloatType) and weight type (CPUFloatType) should be the same"))).isTrue();
        assertThat(Engine.isDeviceMismatch(new RuntimeException("shapes cannot be multiplied"))).isFalse();
        assertThat(Engine.isDeviceMismatch(new RuntimeException((String) null))).isFalse();
        assertThat(Engine.physicalBytes()).isPositive();
    }
}
