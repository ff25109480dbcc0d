package dev.tikhon.onnx;

import dev.tikhon.attack.Norm;
import dev.tikhon.engine.Autograd;
import dev.tikhon.engine.Rng;
import dev.tikhon.engine.Tensor;
import dev.tikhon.nn.Module;
import dev.tikhon.nn.Normalize;
import dev.tikhon.nn.Sequential;
import dev.tikhon.onnx.KerasCnnGraph.Rescaling;
import dev.tikhon.onnx.OnnxProto.Attribute;
import dev.tikhon.verify.BoundOracles;
import dev.tikhon.verify.BoundedNetwork;
import dev.tikhon.verify.InputRegion;
import dev.tikhon.verify.Interval;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Keras' {@code Rescaling} at the input of a model trained on [0, 255] pixels ({@link KerasCnnGraph}, as tf2onnx writes it).
 * Oracle: ONNX Runtime's logits on the same file fed 255·x (NHWC) equal Tikhon's on x ∈ [0, 1] (NCHW); a scale that is not
 * a pixel rescaling, or an input read by more than the Mul, stays as it is (ONNX Runtime's logits on x itself); IBP and
 * CROWN hold at sampled points of ℓ∞ and ℓ2 balls, which are in [0, 1] units.
 */
class KerasRescalingTest {

    private static float[] logits(Module m, Tensor x) {
        try (Autograd.Guard g = Autograd.noGrad()) {
            return m.forward(x).toFloatArray();
        }
    }

    private static Tensor nhwc255(Tensor nchw) { return nchw.permute(0, 2, 3, 1).mul(255.0).contiguous(); }

    /** Imports the model, checks its logits on [0, 1] images against ONNX Runtime's on 255 times them; the import. */
    private static OnnxImport.Result imported(Rescaling r, boolean normalization) throws Exception {
        byte[] onnx = KerasCnnGraph.bytes(8, normalization ? 3 : 1, normalization, 1, r);
        OnnxImport.Result result = OnnxImport.read(onnx, "keras.onnx");
        Tensor x = Tensor.rand(5, normalization ? 3 : 1, 8, 8);
        OnnxImportTest.assertClose(logits(result.model(), x), OnnxRuntimeOracle.logits(onnx, nhwc255(x)), 1e-4);
        return result;
    }

    @Test
    void rescalingBy1Over255IsDroppedBeforeOrAfterTheTranspose() throws Exception {
        for (boolean after : new boolean[]{false, true}) {
            OnnxImport.Result r = imported(new Rescaling("Mul", 1f / 255, Float.NaN, after), false);
            assertThat(r.inputShape()).containsExactly(1L, 8L, 8L);
            assertThat(r.notes()).anyMatch(n -> n.contains("NHWC"));
            assertThat(r.notes()).anyMatch(n -> n.contains("Mul by 1/255 (node 'sequential/rescaling/mul')") && n.contains("Rescaling(1/255)")
                    && n.contains("that Mul is dropped") && n.contains("already in [0, 1]") && n.contains("ε is in [0, 1] units") && !n.contains("\n"));
            assertThat(r.model().describe()).doesNotContain("mul(");
            // the same model without the Rescaling, on the same images
            Module plain = OnnxImport.read(KerasCnnGraph.bytes(8, 1, false, 1), "plain.onnx").model();
            Tensor x = Tensor.rand(3, 1, 8, 8);
            assertThat(logits(r.model(), x)).containsExactly(logits(plain, x));
        }
    }

    @Test
    void aDivBy255AndAScaleOneUlpOffAreDroppedToo() throws Exception {
        assertThat(imported(new Rescaling("Div", 255f, Float.NaN, true), false).notes()).anyMatch(n -> n.contains("Div by 255") && n.contains("that Div is dropped"));
        float up = Math.nextUp(1f / 255);
        assertThat(imported(new Rescaling("Mul", up, Float.NaN, false), false).notes()).anyMatch(n -> n.contains("Mul by 1/255"));
        // a flat input (no transpose), the scale written first
        Rng.seed(7);
        OnnxOperatorsTest.G g = new OnnxOperatorsTest.G(12);
        String h = g.op("Mul", List.of(g.initValue(new long[]{1}, new float[]{1f / 255}), "x"));
        h = g.op("Gemm", List.of(h, g.init(new long[]{3, 12})), Attribute.ofInt("transB", 1));
        byte[] onnx = g.bytes(h);
        OnnxImport.Result r = OnnxImport.read(onnx, "flat.onnx");
        assertThat(r.notes()).singleElement().satisfies(n -> assertThat(n).contains("Mul by 1/255 (node 'node_mul1')"));
        Tensor x = Tensor.rand(4, 12);
        OnnxImportTest.assertClose(logits(r.model(), x), OnnxRuntimeOracle.logits(onnx, x.mul(255.0)), 1e-5);
    }

    @Test
    void kerasNormalizationAfterTheRescalingStillBecomesNormalize() throws Exception {
        OnnxImport.Result r = imported(Rescaling.mul(1.0 / 255), true);
        assertThat(((Sequential) r.model()).layers().get(0)).isInstanceOf(Normalize.class);
    }

    @Test
    void rescalingWithAnOffsetIsTheAffineMapOnUnitPixels() throws Exception {
        OnnxImport.Result r = imported(new Rescaling("Mul", (float) (1 / 127.5), -1f, true), false);
        assertThat(r.notes()).anyMatch(n -> n.contains("Rescaling(1/127.5, -1)") && n.contains("computes x·2 − 1 instead") && !n.contains("\n"));
        assertThat(r.model().describe()).startsWith("mul(x, const[]) → add(x, const[]) → Conv2d");
        // on [0, 1] inputs the first two layers map to [−1, 1], as the file's map [0, 255] pixels
        Tensor x = Tensor.rand(2, 1, 8, 8);
        List<Module> layers = ((Sequential) r.model()).layers();
        try (Autograd.Guard g = Autograd.noGrad()) {
            Tensor y = layers.get(1).forward(layers.get(0).forward(x));
            assertThat(y.sub(x.mul(2.0).sub(1.0)).abs().max().item()).isEqualTo(0.0);
        }
        // 1/255 with an offset: the Mul is dropped, the Add kept
        OnnxImport.Result s = imported(new Rescaling("Mul", 1f / 255, 0.25f, false), false);
        assertThat(s.notes()).anyMatch(n -> n.contains("Rescaling(1/255, 0.25)") && n.contains("that Mul is dropped and the model computes x + 0.25"));
        assertThat(s.model().describe()).doesNotContain("mul(").contains("add(x, const[])");
    }

    @Test
    void otherInputArithmeticStaysAsItIs() throws Exception {
        for (Rescaling r : new Rescaling[]{Rescaling.mul(0.5), Rescaling.mul(1.0 / 256), new Rescaling("Div", 256f, Float.NaN, false),
                new Rescaling("Mul", 1f / 255 + 4 * Math.ulp(1f / 255), Float.NaN, false)}) {
            byte[] onnx = KerasCnnGraph.bytes(8, 1, false, 1, r);
            OnnxImport.Result result = OnnxImport.read(onnx, "keras.onnx");
            assertThat(result.notes()).as(r.toString()).noneMatch(n -> n.contains("rescaled"));
            Tensor x = Tensor.rand(3, 1, 8, 8);
            OnnxImportTest.assertClose(logits(result.model(), x), OnnxRuntimeOracle.logits(onnx, x.permute(0, 2, 3, 1).contiguous()), 1e-5);
        }
        // an input that something besides the Mul reads keeps its Mul
        Rng.seed(6);
        OnnxOperatorsTest.G g = new OnnxOperatorsTest.G(12);
        String scale = g.initValue(new long[0], new float[]{1f / 255});
        String h = g.op("Mul", List.of("x", scale));
        h = g.op("Add", List.of(h, "x"));
        h = g.op("Gemm", List.of(h, g.init(new long[]{3, 12})), Attribute.ofInt("transB", 1));
        byte[] onnx = g.bytes(h);
        assertThat(OnnxImport.read(onnx, "t.onnx").notes()).isEmpty();
        OnnxOperatorsTest.check(onnx, 2, 12);
    }

    @Test
    void theExportReadsBackWithoutTheRescaling() throws Exception {
        for (Rescaling r : new Rescaling[]{Rescaling.mul(1.0 / 255), new Rescaling("Mul", (float) (1 / 127.5), -1f, true)}) {
            Module m = OnnxImport.read(KerasCnnGraph.bytes(8, 1, false, 1, r), "keras.onnx").model();
            byte[] back = OnnxExport.toBytes(m, List.of(1L, 8L, 8L));
            OnnxImport.Result again = OnnxImport.read(back, "back.onnx");
            assertThat(again.notes()).as("exported in [0, 1] units: nothing to rescale").isEmpty();
            Tensor x = Tensor.rand(3, 1, 8, 8);
            assertThat(logits(again.model(), x)).containsExactly(logits(m, x));
            OnnxImportTest.assertClose(OnnxRuntimeOracle.logits(back, x), logits(m, x), 1e-5);
        }
    }

    @Test
    void boundsHoldInUnitPixelsAtSampledPoints() throws Exception {
        for (Rescaling r : new Rescaling[]{Rescaling.mul(1.0 / 255), new Rescaling("Mul", (float) (1 / 127.5), -1f, true)}) {
            Module m = OnnxImport.read(KerasCnnGraph.bytes(8, 1, false, 1, r), "keras.onnx").model();
            BoundedNetwork net = BoundedNetwork.of(m);
            Tensor x = Tensor.rand(6, 1, 8, 8);
            Tensor spec = BoundOracles.spec(m, x);
            BoundOracles.assertExactAtZero(net, m, spec, x, 1e-4);
            for (Norm norm : new Norm[]{Norm.LINF, Norm.L2}) {
                double eps = norm == Norm.LINF ? 0.03 : 0.3;
                InputRegion region = InputRegion.ball(x, eps, norm);
                Interval ibp = net.ibp(region, spec), crown = net.crown(region, spec);
                BoundOracles.assertContainsSamples(m, spec, x, norm, eps, 200, 1e-5, ibp, crown);
            }
        }
    }
}
