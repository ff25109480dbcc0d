package dev.tikhon.engine;

import org.junit.jupiter.api.Test;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

class EngineTest {

    @Test
    void javacppDoesNotReadProcessMemoryPerNativeObject() {
        // Tikhon frees native memory by scopes; JavaCPP's per-object /proc read would only cost time (train/MemoryTest
        // shows memory stays flat with it off). A -D setting of the user's would win; the test JVM sets none.
        Tensor.zeros(1);
        assertThat(Engine.pointerPhysicalLimit()).isZero();
        assertThat(Engine.describe()).containsEntry("javacpp_max_physical_bytes", 0L);
    }

    @Test
    void blasThreadsFollowOnlyForTheWorkAndAreHeldToOneAgain() {
        Object inside = Engine.withBlasThreads(2, () -> Engine.describe().get("openblas_threads"));
        assertThat(inside).isEqualTo(2);
        assertThat(Engine.describe().get("openblas_threads")).isEqualTo(1);
        assertThatThrownBy(() -> Engine.withBlasThreads(2, () -> { throw new IllegalStateException("boom"); }))
                .hasMessage("boom");
        assertThat(Engine.describe().get("openblas_threads")).isEqualTo(1);
    }

    @Test
    void blasThreadsSettingIsACountOrThreadsAndAnythingElseIsNamed() {
        assertThat(Engine.blasThreads(4, "threads", null).count()).isEqualTo(4);
        assertThat(Engine.blasThreads(4, " 3 ", "4").count()).isEqualTo(3);
        assertThat(Engine.blasThreads(4, "1", "4").count()).as("the setting wins over a short spin").isEqualTo(1);
        for (String bad : new String[]{"0", "-2", "two", "1.5"}) {
            assertThatThrownBy(() -> Engine.blasThreads(4, bad, null)).isInstanceOf(IllegalArgumentException.class)
                    .hasMessageContaining("TIKHON_BLAS_THREADS").hasMessageContaining("'" + bad + "'");
        }
    }

    @Test
    void withoutASettingOpenBlasFollowsAtenOnlyWhenItsWorkersSpinBriefly() {
        assertThat(Engine.blasThreads(4, null, null).count()).as("OpenBLAS's default spin: one thread").isEqualTo(1);
        assertThat(Engine.blasThreads(4, " ", "28").count()).isEqualTo(1);
        assertThat(Engine.blasThreads(4, null, "11").count()).isEqualTo(1);
        assertThat(Engine.blasThreads(4, null, "10").count()).isEqualTo(4);
        assertThat(Engine.blasThreads(4, null, "4").count()).as("the launcher's setting").isEqualTo(4);
        assertThat(Engine.blasThreads(4, null, "short").count()).as("OpenBLAS ignores a non-number").isEqualTo(1);
        assertThat(Engine.blasThreads(4, null, "4").why()).contains("as many as ATen's", "2^4");
        assertThat(Engine.blasThreads(4, null, null).why()).contains("one", "default 2^28", "OPENBLAS_THREAD_TIMEOUT=4");
        assertThat(Engine.blasThreads(4, " 3 ", null).why()).isEqualTo("TIKHON_BLAS_THREADS=3");
        // This JVM has neither variable (surefire does not go through the launcher): one thread, as asserted above.
        assertThat(System.getenv("OPENBLAS_THREAD_TIMEOUT")).isNull();
    }

    @Test
    void arraysRoundTripThroughTensors() {
        float[] f = {1, 2, 3, 4, 5, 6};
        Tensor t = Tensor.fromFloats(f, 2, 3);
        assertThat(t.shape()).containsExactly(2, 3);
        assertThat(t.dtype()).isEqualTo(DType.FLOAT32);
        assertThat(t.toFloatArray()).containsExactly(f);
        assertThat(Tensor.fromDoubles(new double[]{0.5, -1}, 2).toDoubleArray()).containsExactly(0.5, -1);
        assertThat(Tensor.fromLongs(new long[]{7, 8, 9}, 3).toLongArray()).containsExactly(7, 8, 9);
        byte[] b = {(byte) 255, 0, 17};
        assertThat(Tensor.fromUnsignedBytes(b, 3).to(DType.FLOAT32).toFloatArray()).containsExactly(255f, 0f, 17f);
        assertThatThrownBy(() -> Tensor.fromFloats(f, 4, 2)).hasMessageContaining("does not fill shape");
    }

    /** Oracle: the closed-form gradient of sum(softplus(x Wᵀ)) is sigmoid(x Wᵀ) W. */
    @Test
    void inputGradientMatchesClosedForm() {
        Rng.seed(0);
        Tensor w = Tensor.randn(DType.FLOAT64, Device.CPU, 5, 3);
        Tensor x = Tensor.randn(DType.FLOAT64, Device.CPU, 4, 3).requiresGrad(true);
        Tensor y = x.matmul(w.t()).softplus(1, 20).sum();
        Tensor g = Autograd.grad(y, x, false);
        Tensor ref = x.matmul(w.t()).sigmoid().matmul(w);
        assertThat(g.sub(ref).abs().max().item()).isLessThan(1e-12);
        assertThat(x.grad()).as("autograd.grad must not accumulate into .grad").isNull();
    }

    /** Oracle: d/dW ‖∇ₓ f‖² by double backprop equals central finite differences (float64). */
    @Test
    void doubleBackpropMatchesFiniteDifferences() {
        Rng.seed(1);
        Tensor w = Tensor.randn(DType.FLOAT64, Device.CPU, 3, 2).requiresGrad(true);
        Tensor x = Tensor.randn(DType.FLOAT64, Device.CPU, 4, 2).requiresGrad(true);
        Tensor gw = Autograd.grad(penalty(w, x), w, false);
        double[] wv = w.toDoubleArray();
        double[] analytic = gw.toDoubleArray();
        double eps = 1e-6;
        for (int i = 0; i < wv.length; i++) {
            double[] p = wv.clone(), m = wv.clone();
            p[i] += eps;
            m[i] -= eps;
            double fd = (penalty(Tensor.fromDoubles(p, 3, 2), x).item() - penalty(Tensor.fromDoubles(m, 3, 2), x).item()) / (2 * eps);
            assertThat(analytic[i]).isCloseTo(fd, within(1e-7 * Math.max(1, Math.abs(fd))));
        }
    }

    private static Tensor penalty(Tensor w, Tensor x) {
        Tensor y = x.matmul(w.t()).tanh().sum();
        return Autograd.grad(y, x, true).square().sum();
    }

    /** A vector–Jacobian product with respect to a non-leaf tensor: vᵀ J of z ↦ tanh(z) at z = 2a. */
    @Test
    void vjpOnNonLeafTensor() {
        Tensor a = Tensor.fromDoubles(new double[]{0.1, -0.4, 0.7}, 3).requiresGrad(true);
        Tensor z = a.mul(2);                      // non-leaf
        Tensor f = z.tanh();
        Tensor v = Tensor.fromDoubles(new double[]{1, 2, 3}, 3);
        Tensor vj = Autograd.vjp(f, z, v, false);
        Tensor ref = v.mul(z.tanh().square().neg().add(1));
        assertThat(vj.sub(ref).abs().max().item()).isLessThan(1e-14);
    }

    @Test
    void noGradSectionsRecordNothingAndRestore() {
        Tensor x = Tensor.ones(2).requiresGrad(true);
        assertThat(Autograd.isGradEnabled()).isTrue();
        try (Autograd.Guard g = Autograd.noGrad()) {
            assertThat(x.mul(2).requiresGrad()).isFalse();
            try (Autograd.Guard e = Autograd.enableGrad()) {
                assertThat(x.mul(2).requiresGrad()).isTrue();
            }
            assertThat(Autograd.isGradEnabled()).isFalse();
        }
        assertThat(Autograd.isGradEnabled()).isTrue();
    }

    @Test
    void backwardAccumulatesAndClearGradDropsIt() {
        Tensor w = Tensor.ones(3).requiresGrad(true);
        w.mul(3).sum().backward();
        assertThat(w.grad().toFloatArray()).containsExactly(3f, 3f, 3f);
        w.mul(3).sum().backward();
        assertThat(w.grad().toFloatArray()).containsExactly(6f, 6f, 6f);
        w.clearGrad();
        assertThat(w.grad()).isNull();
    }

    @Test
    void keptTensorsSurviveTheirScope() {
        Tensor kept;
        try (Scope s = Scope.open()) {
            kept = Tensor.full(2.5, DType.FLOAT32, Device.CPU, 1000).keep();
            Tensor.randn(1000);
        }
        System.gc();
        assertThat(kept.sum().item()).isEqualTo(2500.0);
    }

    @Test
    void seedsReproduce() {
        Rng.seed(42);
        float[] a = Tensor.randn(5).toFloatArray();
        Rng.seed(42);
        float[] b = Tensor.randn(5).toFloatArray();
        assertThat(a).containsExactly(b);
        assertThat(Rng.derive(1, 2, 3)).isEqualTo(Rng.derive(1, 2, 3)).isNotEqualTo(Rng.derive(1, 3, 2));
    }

    /**
     * What {@code info} and metrics.json report of the convolution kernels is the self-check's verdict at the current
     * thread count: oneDNN, right against float64 and at the ISA cap this process chose; or the reference kernels,
     * and then only for an error above the self-check's tolerance.
     */
    @Test
    void theReportedKernelsAreTheSelfChecksVerdictAtTheCurrentThreadCount() {
        int before = Engine.threads();
        try {
            Engine.setThreads(before == 1 ? 2 : 1);   // the self-check's verdict there (run now, or kept from the first time)
            String k = Engine.kernels();
            assertThat(Engine.describe()).containsEntry("kernels", k).containsEntry("intraop_threads", Engine.threads());
            if (k.startsWith("oneDNN")) {
                assertThat(KernelCheck.worstConvError()).isLessThan(1e-4);
                String env = System.getenv("ONEDNN_MAX_CPU_ISA");
                String cap = env != null ? env + " from the environment"
                        : IsaVerdict.nativeFailed() ? Engine.ONEDNN_FALLBACK_ISA_CAP + ", the native kernels having failed on this host (" + IsaVerdict.file() + ")"
                        : "none, the CPU's own (ATen dispatch ";
                assertThat(k).startsWith("oneDNN (ISA cap " + cap).contains("float32 conv outputs and gradients self-checked against float64");
                assertThat(k.contains("padded to a multiple of 8")).isEqualTo(Engine.padConvChannels);
            } else {
                java.util.regex.Matcher m = java.util.regex.Pattern.compile("^reference \\(oneDNN off: its float32 convolutions were wrong by (\\S+) relative at ISA cap ").matcher(k);
                assertThat(m.find()).as(k).isTrue();
                assertThat(Double.parseDouble(m.group(1).replace(',', '.'))).as(k).isGreaterThanOrEqualTo(1e-4);
            }
        } finally {
            Engine.setThreads(before);
        }
    }

    /**
     * The self-check runs in full the first time a thread count is set in the process, and setting a count again takes
     * the verdict found then (kernels reported, channels-last, channel padding) without checking again.
     */
    @Test
    void theSelfCheckRunsOncePerThreadCountAndItsVerdictIsKept() {
        int before = Engine.threads();
        try {
            int fresh = 3;
            while (Engine.PASSED.containsKey(fresh)) fresh++;
            boolean oneDnn = Engine.kernels().startsWith("oneDNN");
            int checks = Engine.SELF_CHECKS.get();
            Engine.setThreads(fresh);
            if (oneDnn) {
                assertThat(Engine.SELF_CHECKS.get()).as("a count not set before is checked").isEqualTo(checks + 1);
                assertThat(Engine.PASSED.containsKey(fresh)).isEqualTo(Engine.kernels().startsWith("oneDNN"));
            }
            int[] counts = {1, 2, fresh};
            String[] kernels = new String[3];
            boolean[][] flags = new boolean[3][];
            for (int i = 0; i < 3; i++) {
                Engine.setThreads(counts[i]);
                kernels[i] = Engine.kernels();
                flags[i] = new boolean[]{Engine.channelsLast, Engine.padConvChannels};
            }
            checks = Engine.SELF_CHECKS.get();
            for (int round = 0; round < 2; round++) {
                for (int i = 2; i >= 0; i--) {
                    Engine.setThreads(counts[i]);
                    assertThat(Engine.threads()).isEqualTo(counts[i]);
                    assertThat(Engine.kernels()).isEqualTo(kernels[i]);
                    assertThat(new boolean[]{Engine.channelsLast, Engine.padConvChannels}).containsExactly(flags[i]);
                }
            }
            assertThat(Engine.SELF_CHECKS.get()).as("counts already checked are not checked again").isEqualTo(checks);
        } finally {
            Engine.setThreads(before);
        }
    }

    /** {@code --device cuda} where CUDA cannot be used says why and what to do; an index past the last GPU is named. */
    @Test
    void cudaThatCannotBeUsedIsRefusedWithTheReason() {
        if (!NativeLoader.gpuFlavour()) {
            assertThatThrownBy(() -> Engine.requireCuda(0)).isInstanceOf(IllegalArgumentException.class)
                    .hasMessageStartingWith("--device cuda: this build carries CPU-only libtorch natives")
                    .hasMessageEndingWith("or use --device cpu");
            assertThat(Engine.cudaAvailable()).isFalse();   // CPU-only natives see no GPU
            assertThat(Engine.cudaDeviceCount()).isZero();
        } else if (!Engine.cudaAvailable()) {
            assertThatThrownBy(() -> Engine.requireCuda(0)).isInstanceOf(IllegalArgumentException.class)
                    .hasMessageStartingWith("--device cuda: no usable CUDA device").hasMessageEndingWith("use --device cpu");
            assertThat(Engine.cudaDeviceCount()).isZero();
        } else {
            int n = Engine.cudaDeviceCount();
            Engine.requireCuda(n - 1);
            assertThatThrownBy(() -> Engine.requireCuda(n)).isInstanceOf(IllegalArgumentException.class)
                    .hasMessage("--device cuda:" + n + ": only " + n + " CUDA device(s) visible");
        }
    }

    @Test
    void tensorFilesRoundTripAndRejectGarbage() throws IOException {
        Map<String, Tensor> m = new LinkedHashMap<>();
        m.put("w", Tensor.fromDoubles(new double[]{1, 2, 3, 4}, 2, 2));
        m.put("step", Tensor.fromLongs(new long[]{12}, 1));
        m.put("f", Tensor.fromFloats(new float[]{0.25f}, 1, 1, 1));
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        TensorIO.write(new DataOutputStream(bytes), m);
        Map<String, Tensor> back = TensorIO.read(new DataInputStream(new ByteArrayInputStream(bytes.toByteArray())), "mem");
        assertThat(back.keySet()).containsExactly("w", "step", "f");
        assertThat(back.get("w").toDoubleArray()).containsExactly(1, 2, 3, 4);
        assertThat(back.get("w").shape()).containsExactly(2, 2);
        assertThat(back.get("step").toLongArray()).containsExactly(12);
        assertThat(back.get("f").dtype()).isEqualTo(DType.FLOAT32);
        byte[] cut = java.util.Arrays.copyOf(bytes.toByteArray(), bytes.size() - 3);
        assertThatThrownBy(() -> TensorIO.read(new DataInputStream(new ByteArrayInputStream(cut)), "cut"))
                .isInstanceOf(java.io.EOFException.class);
        assertThatThrownBy(() -> TensorIO.read(new DataInputStream(new ByteArrayInputStream(new byte[16])), "zeros"))
                .hasMessageContaining("bad magic");
    }

    @Test
    void cudaRequestFailsClearlyWithoutGpu() {
        if (Engine.cudaAvailable()) return;
        assertThatThrownBy(() -> Device.parse("cuda")).hasMessageContaining("--device cpu");
        assertThat(Device.parse("auto")).isEqualTo(Device.CPU);
    }

    @Test
    void catStackAndTopk() {
        Tensor a = Tensor.fromFloats(new float[]{1, 5, 3}, 1, 3);
        Tensor b = Tensor.fromFloats(new float[]{4, 2, 6}, 1, 3);
        assertThat(Tensor.cat(List.of(a, b), 0).shape()).containsExactly(2, 3);
        assertThat(Tensor.stack(List.of(a, b), 0).shape()).containsExactly(2, 1, 3);
        Tensor[] top = Tensor.cat(List.of(a, b), 0).topk(2, 1);
        assertThat(top[0].toFloatArray()).containsExactly(5, 3, 6, 4);
        assertThat(top[1].toLongArray()).containsExactly(1, 2, 2, 0);
    }

    @Test
    void tupleResultsOwnTheirTensorsAndOutliveTheirScope() {
        // topk/min return a C++ tuple whose elements are references: the results must be owning copies,
        // or they dangle once the tuple is freed with its Scope
        double[] x = {3, 1, 4, 1, 5, 9, 2, 6};
        Tensor[] top, min;
        try (Scope s = Scope.open()) {
            Tensor t = Tensor.fromDoubles(x, 2, 4);
            top = t.topk(2, 1);
            min = t.minWithIndex(1);
            for (Tensor r : new Tensor[]{top[0], top[1], min[0], min[1]}) r.keep();
        }
        try (Scope s = Scope.open()) {
            for (int i = 0; i < 50; i++) {   // take the freed memory back, with other values in it
                Tensor.full(-7, DType.FLOAT64, Device.CPU, 2, 2);
                Tensor.full(-7, DType.INT64, Device.CPU, 2, 2);
                Tensor.full(-7, DType.FLOAT64, Device.CPU, 2);
                Tensor.full(-7, DType.INT64, Device.CPU, 2);
            }
            assertTuples(top, min);
        }
    }

    private static void assertTuples(Tensor[] top, Tensor[] min) {
        org.assertj.core.api.Assertions.assertThat(top[0].toDoubleArray()).containsExactly(4, 3, 9, 6);
        org.assertj.core.api.Assertions.assertThat(top[1].toLongArray()).containsExactly(2, 0, 1, 3);
        org.assertj.core.api.Assertions.assertThat(min[0].toDoubleArray()).containsExactly(1, 2);
        org.assertj.core.api.Assertions.assertThat(min[1].toLongArray()).containsExactly(1, 2);
    }
}
