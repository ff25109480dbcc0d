package dev.tikhon.onnx;

import dev.tikhon.UserError;
import dev.tikhon.attack.Norm;
import dev.tikhon.engine.Autograd;
import dev.tikhon.engine.Rng;
import dev.tikhon.engine.Tensor;
import dev.tikhon.lipschitz.NetworkBound;
import dev.tikhon.nn.Graph;
import dev.tikhon.nn.Module;
import dev.tikhon.nn.Normalize;
import dev.tikhon.nn.Sequential;
import dev.tikhon.onnx.OnnxProto.Attribute;
import dev.tikhon.verify.BoundOracles;
import dev.tikhon.verify.BoundedNetwork;
import dev.tikhon.verify.InputRegion;
import dev.tikhon.verify.Interval;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * Transposes of computed values and Keras' NHWC input as tf2onnx writes it ({@link KerasCnnGraph}). Oracles: ONNX Runtime's
 * logits on the same file fed the images as NHWC equal Tikhon's on NCHW; a transpose inside the network gives ONNX
 * Runtime's logits; export then import gives the same logits; IBP and CROWN are exact at ε = 0 and hold at 300 sampled
 * points; the Lipschitz bound is at least the gradients' norms; a perm that moves the batch axis is refused naming the node.
 */
class NhwcTransposeTest {

    private static Tensor logits(Module m, Tensor x) {
        try (Autograd.Guard g = Autograd.noGrad()) {
            return m.forward(x);
        }
    }

    private static Tensor nhwc(Tensor nchw) { return nchw.permute(0, 2, 3, 1).contiguous(); }

    @Test
    void aKerasCnnTakesNchwAndGivesOnnxRuntimesLogitsOnNhwc() throws Exception {
        byte[] onnx = KerasCnnGraph.bytes(8, 1, false, 1);
        OnnxImport.Result r = OnnxImport.read(onnx, "keras.onnx");
        assertThat(r.inputShape()).containsExactly(1L, 8L, 8L);
        assertThat(r.notes()).anyMatch(n -> n.contains("NHWC") && n.contains("sequential/conv2d/Conv2D__6"));
        assertThat(r.model()).isInstanceOf(Sequential.class);
        assertThat(r.model().describe()).contains("transpose[0, 2, 3, 1]").doesNotContain("transpose[0, 3, 1, 2]").contains("flatten");
        Tensor x = Tensor.rand(5, 1, 8, 8);
        OnnxImportTest.assertClose(logits(r.model(), x).toFloatArray(), OnnxRuntimeOracle.logits(onnx, nhwc(x)), 1e-5);
        // gradients reach the input through the transpose
        Tensor xg = x.copy().requiresGrad(true);
        assertThat(Autograd.grad(r.model().forward(xg).square().sum(), xg, false).abs().sum().item()).isPositive();
    }

    @Test
    void kerasNormalizationBeforeTheTransposeMovesToTheChannelAxis() throws Exception {
        byte[] onnx = KerasCnnGraph.bytes(8, 3, true, 2);
        OnnxImport.Result r = OnnxImport.read(onnx, "keras.onnx");
        assertThat(r.inputShape()).containsExactly(3L, 8L, 8L);
        assertThat(((Sequential) r.model()).layers().get(0)).as("per-channel (x − mean)/std is read as an input normalization").isInstanceOf(Normalize.class);
        Tensor x = Tensor.rand(4, 3, 8, 8);
        OnnxImportTest.assertClose(logits(r.model(), x).toFloatArray(), OnnxRuntimeOracle.logits(onnx, nhwc(x)), 1e-5);
    }

    @Test
    void theCommittedFixtureIsTheBuildersAndMatchesOnnxRuntime() throws Exception {
        byte[] onnx = Files.readAllBytes(OnnxImportTest.DIR.resolve("keras_cnn.onnx"));
        OnnxImport.Result r = OnnxImport.read(onnx, "keras_cnn.onnx");
        assertThat(r.inputShape()).containsExactly(1L, 28L, 28L);
        Tensor x = Tensor.rand(3, 1, 28, 28);
        OnnxImportTest.assertClose(logits(r.model(), x).toFloatArray(), OnnxRuntimeOracle.logits(onnx, nhwc(x)), 1e-5);
    }

    /** A 4-D input that no Transpose(0, 3, 1, 2) reads stays as the file declares it. */
    @Test
    void anNhwcLookingInputWithoutTheTransposeStaysAsItIs() throws Exception {
        Rng.seed(4);
        OnnxOperatorsTest.G g = new OnnxOperatorsTest.G(6, 6, 3);
        String h = g.op("Flatten", List.of("x"), Attribute.ofInt("axis", 1));
        h = g.op("Gemm", List.of(h, g.init(new long[]{4, 108})), Attribute.ofInt("transB", 1));
        byte[] onnx = g.bytes(h);
        OnnxImport.Result r = OnnxImport.read(onnx, "t.onnx");
        assertThat(r.inputShape()).containsExactly(6L, 6L, 3L);
        assertThat(r.notes()).isEmpty();
        OnnxOperatorsTest.check(onnx, 2, 6, 6, 3);

        // a transpose (0, 3, 1, 2) of a value that is not the input is a layer
        OnnxOperatorsTest.G k = new OnnxOperatorsTest.G(6, 6, 3);
        String a = k.op("Relu", List.of("x"));
        a = k.op("Transpose", List.of(a), Attribute.ofInts("perm", 0, 3, 1, 2));
        a = k.op("Flatten", List.of(a), Attribute.ofInt("axis", 1));
        byte[] relu = k.bytes(a);
        assertThat(OnnxImport.read(relu, "t.onnx").notes()).isEmpty();
        Module m = OnnxOperatorsTest.check(relu, 2, 6, 6, 3);
        assertThat(m.describe()).contains("transpose[0, 3, 1, 2]");
    }

    /** Transposes inside the network, one in a skip connection's branch (a graph, which asChain reads as layers and a sum). */
    private static byte[] middleTransposes() throws Exception {
        Rng.seed(5);
        OnnxOperatorsTest.G g = new OnnxOperatorsTest.G(3, 5, 6);
        String t = g.op("Transpose", List.of("x"), Attribute.ofInts("perm", 0, 1, 3, 2));   // [N, 3, 6, 5]
        String c = g.op("Conv", List.of(t, g.init(new long[]{3, 3, 3, 3}), g.init(new long[]{3})), Attribute.ofInts("pads", 1, 1, 1, 1));
        c = g.op("Relu", List.of(c));
        String back = g.op("Transpose", List.of(c), Attribute.ofInts("perm", 0, 1, 3, 2));   // [N, 3, 5, 6]
        String sum = g.op("Add", List.of(back, "x"));
        String p = g.op("Transpose", List.of(sum), Attribute.ofInts("perm", 0, 3, 1, 2));    // [N, 6, 3, 5]
        p = g.op("Flatten", List.of(p), Attribute.ofInt("axis", 1));
        p = g.op("Gemm", List.of(p, g.init(new long[]{7, 90}), g.init(new long[]{7})), Attribute.ofInt("transB", 1));
        return g.bytes(p);
    }

    @Test
    void transposesInsideTheNetworkGiveOnnxRuntimesLogitsAndExportBack() throws Exception {
        byte[] onnx = middleTransposes();
        Module m = OnnxOperatorsTest.check(onnx, 3, 3, 5, 6);
        assertThat(m).isInstanceOf(Graph.class);
        List<Graph.Part> chain = ((Graph) m).asChain();
        assertThat(chain).anyMatch(p -> p instanceof Graph.Layer l && l.module() instanceof OnnxLayers.Transpose);
        assertThat(chain).anyMatch(p -> p instanceof Graph.Sum);

        Tensor x = Tensor.rand(4, 3, 5, 6);
        byte[] back = OnnxExport.toBytes(m, List.of(3L, 5L, 6L));
        Module again = OnnxImport.read(back, "back.onnx").model();
        assertThat(logits(again, x).toFloatArray()).containsExactly(logits(m, x).toFloatArray());
        OnnxImportTest.assertClose(OnnxRuntimeOracle.logits(back, x), logits(m, x).toFloatArray(), 1e-5);

        // the Keras model exports with NCHW input and its inner Transpose, and reads back to the same logits
        Module keras = OnnxImport.read(KerasCnnGraph.bytes(8, 1, false, 1), "keras.onnx").model();
        byte[] kb = OnnxExport.toBytes(keras, List.of(1L, 8L, 8L));
        Tensor y = Tensor.rand(4, 1, 8, 8);
        assertThat(logits(OnnxImport.read(kb, "k.onnx").model(), y).toFloatArray()).containsExactly(logits(keras, y).toFloatArray());
        OnnxImportTest.assertClose(OnnxRuntimeOracle.logits(kb, y), logits(keras, y).toFloatArray(), 1e-5);
    }

    @Test
    void boundsAreExactAtZeroAndHoldAtSampledPoints() throws Exception {
        check(OnnxImport.read(KerasCnnGraph.bytes(8, 1, false, 1), "keras.onnx").model(), Tensor.rand(6, 1, 8, 8), new long[]{1, 8, 8});
        check(OnnxImport.read(KerasCnnGraph.bytes(8, 3, true, 2), "keras.onnx").model(), Tensor.rand(6, 3, 8, 8), new long[]{3, 8, 8});
        check(OnnxImport.read(middleTransposes(), "mid.onnx").model(), Tensor.rand(6, 3, 5, 6), new long[]{3, 5, 6});
    }

    private static void check(Module m, Tensor x, long[] shape) {
        BoundedNetwork net = BoundedNetwork.of(m);
        Tensor spec = BoundOracles.spec(m, x);
        BoundOracles.assertExactAtZero(net, m, spec, x, 1e-4);
        double eps = 0.03;
        InputRegion region = InputRegion.ball(x, eps, Norm.LINF);
        Interval ibp = net.ibp(region, spec), crown = net.crown(region, spec);
        BoundOracles.assertContainsSamples(m, spec, x, Norm.LINF, eps, 300, 1e-5, ibp, crown);
        assertThat(crown.lo().mean().item()).as("CROWN at least as tight as IBP on average").isGreaterThanOrEqualTo(ibp.lo().mean().item());
        double bound = NetworkBound.of(m, shape, 0).total();
        Tensor xg = x.copy().requiresGrad(true);
        Tensor out = m.forward(xg);
        for (int k = 0; k < out.size(1); k++) {
            Tensor grad = Autograd.grad(out.select(1, k).sum(), xg, true);
            assertThat(grad.flatten(1, -1).norm(2, new long[]{1}, false).max().item()).as("gradient norm of output %d", k).isLessThanOrEqualTo(bound);
        }
    }

    @Test
    void aPermThatMovesTheBatchAxisIsRefusedNamingTheNode() throws Exception {
        for (long[] perm : new long[][]{{1, 0, 2, 3}, {3, 2, 1, 0}, null}) {
            OnnxOperatorsTest.G g = new OnnxOperatorsTest.G(3, 4, 4);
            String h = g.op("Relu", List.of("x"));
            h = perm == null ? g.op("Transpose", List.of(h)) : g.op("Transpose", List.of(h), Attribute.ofInts("perm", perm));
            h = g.op("Flatten", List.of(h), Attribute.ofInt("axis", 1));
            byte[] onnx = g.bytes(h);
            assertThatThrownBy(() -> OnnxImport.read(onnx, "bad.onnx")).isInstanceOf(UserError.class)
                    .hasMessageContaining("node 'node_transpose1'").hasMessageContaining("moves the batch axis")
                    .satisfies(e -> assertThat(e.getMessage()).doesNotContain("\n"));
        }
    }
}
