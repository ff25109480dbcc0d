package dev.tikhon.onnx;

import dev.tikhon.UserError;
import dev.tikhon.engine.Autograd;
import dev.tikhon.engine.Rng;
import dev.tikhon.engine.Tensor;
import dev.tikhon.nn.Module;
import dev.tikhon.onnx.OnnxProto.Attribute;
import dev.tikhon.onnx.OnnxProto.Node;
import dev.tikhon.onnx.OnnxProto.TensorData;
import dev.tikhon.onnx.OnnxProto.ValueInfo;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * Every imported operator, in the forms PyTorch does not write (Identity, Dropout, Constant, Gemm with transB = 0 and
 * α, β, a constant first operand, dilated and rectangular kernels, padded pooling, a BatchNormalization ε other than
 * 1e-5, …): small graphs built here, with ONNX Runtime's outputs as the oracle. And the one-line errors.
 */
class OnnxOperatorsTest {
    /** A graph from input "x" of shape [N, ...shape] to value {@code output}. */
    static final class G {
        final OnnxProto.Graph g = new OnnxProto.Graph();
        private int n;

        G(long... shape) {
            List<Long> dims = new ArrayList<>(List.of(-1L));
            for (long d : shape) dims.add(d);
            g.inputs.add(new ValueInfo("x", OnnxProto.FLOAT, dims));
        }

        String init(long[] shape) {
            Tensor t = Tensor.randn(shape).mul(0.5);
            String name = "c" + n++;
            g.initializers.add(TensorData.ofFloats(name, shape, t.toFloatArray()));
            return name;
        }

        String initValue(long[] shape, float[] values) {
            String name = "c" + n++;
            g.initializers.add(TensorData.ofFloats(name, shape, values));
            return name;
        }

        String op(String type, List<String> inputs, Attribute... attrs) {
            String out = type.toLowerCase() + n++;
            Node node = new Node(type, "node_" + out, inputs, List.of(out));
            node.attributes.addAll(Arrays.asList(attrs));
            g.nodes.add(node);
            return out;
        }

        byte[] bytes(String output) throws Exception { return bytes(output, 13); }

        byte[] bytes(String output, long opset) throws Exception {
            g.outputs.add(new ValueInfo(output, OnnxProto.FLOAT, List.of(-1L, -1L)));
            OnnxProto.Model m = new OnnxProto.Model();
            m.irVersion = opset >= 20 ? 9 : 7;   // operator set 20 came with IR version 9
            m.graph = g;
            m.opsets.add(new OnnxProto.OpsetId("", opset));
            return m.toBytes();
        }
    }

    /** Tikhon's import gives ONNX Runtime's outputs, and input gradients that flow. */
    static Module check(byte[] onnx, long... inputShape) throws Exception {
        Tensor x = Tensor.rand(inputShape).add(0.1);
        Module m = OnnxImport.read(onnx, "test.onnx").model();
        Tensor xg = x.copy().requiresGrad(true);
        Tensor out = m.forward(xg);
        OnnxImportTest.assertClose(out.toFloatArray(), OnnxRuntimeOracle.logits(onnx, x), 1e-5);
        Tensor g = Autograd.grad(out.square().sum(), xg, false);
        assertThat(g.abs().sum().item()).isPositive();
        return m;
    }

    @Test
    void identityDropoutConstantAndArithmeticWithConstantsEitherSide() throws Exception {
        Rng.seed(1);
        G g = new G(3, 4, 4);
        String h = g.op("Identity", List.of("x"));
        h = g.op("Dropout", List.of(h, g.initValue(new long[]{}, new float[]{0.3f})));   // the ratio: an input since opset 12
        String c = g.op("Constant", List.of(), Attribute.ofTensor("value", TensorData.ofFloats("k", new long[]{3, 1, 1}, new float[]{0.1f, -0.2f, 0.3f})));
        h = g.op("Add", List.of(c, h));                                 // constant first
        h = g.op("Sub", List.of(g.init(new long[]{1}), h));             // c − x
        h = g.op("Mul", List.of(h, g.init(new long[]{3, 1, 1})));
        h = g.op("Div", List.of(h, g.initValue(new long[]{}, new float[]{4f})));
        h = g.op("Flatten", List.of(h), Attribute.ofInt("axis", 1));
        check(g.bytes(h), 2, 3, 4, 4);
    }

    @Test
    void gemmInBothLayoutsWithAlphaBetaAndMatMulWithAndWithoutBias() throws Exception {
        Rng.seed(2);
        G g = new G(12);
        String h = g.op("Gemm", List.of("x", g.init(new long[]{12, 7}), g.init(new long[]{1, 7})),
                Attribute.ofFloat("alpha", 0.5f), Attribute.ofFloat("beta", 2f));
        h = g.op("LeakyRelu", List.of(h));                              // α = 0.01 by default
        h = g.op("Gemm", List.of(h, g.init(new long[]{6, 7}), g.init(new long[]{6})), Attribute.ofInt("transB", 1));
        h = g.op("Softplus", List.of(h));
        h = g.op("MatMul", List.of(h, g.init(new long[]{6, 5})));
        h = g.op("Sigmoid", List.of(h));
        String mm = g.op("MatMul", List.of(h, g.init(new long[]{5, 4})));
        h = g.op("Add", List.of(mm, g.init(new long[]{4})));
        h = g.op("Tanh", List.of(h));
        Module m = check(g.bytes(h), 3, 12);
        assertThat(m.describe()).startsWith("Linear(12→7)").contains("Linear(6→5, no bias)").contains("Linear(5→4)");
    }

    @Test
    void generalConvolutionsAndPooling() throws Exception {
        Rng.seed(3);
        G g = new G(4, 9, 10);
        String h = g.op("Conv", List.of("x", g.init(new long[]{6, 2, 3, 2}), g.init(new long[]{6})), Attribute.ofInts("kernel_shape", 3, 2),
                Attribute.ofInts("strides", 1, 2), Attribute.ofInts("pads", 2, 1, 2, 1), Attribute.ofInts("dilations", 2, 1),
                Attribute.ofInt("group", 2));
        h = g.op("Relu", List.of(h));
        h = g.op("MaxPool", List.of(h), Attribute.ofInts("kernel_shape", 3, 3), Attribute.ofInts("strides", 2, 2),
                Attribute.ofInts("pads", 1, 1, 1, 1), Attribute.ofInt("ceil_mode", 1));
        h = g.op("AveragePool", List.of(h), Attribute.ofInts("kernel_shape", 2, 2), Attribute.ofInts("strides", 1, 1),
                Attribute.ofInts("pads", 1, 1, 1, 1), Attribute.ofInt("count_include_pad", 1));
        h = g.op("Conv", List.of(h, g.init(new long[]{5, 6, 3, 3})), Attribute.ofInts("pads", 1, 1, 1, 1));   // plain: Conv2d
        h = g.op("GlobalAveragePool", List.of(h));                     // [N, 5, 1, 1], kept: a Conv follows
        h = g.op("Conv", List.of(h, g.init(new long[]{3, 5, 1, 1})));
        h = g.op("Reshape", List.of(h, longs(g, 0, -1)));
        Module m = check(g.bytes(h), 2, 4, 9, 10);
        assertThat(m.describe()).contains("groups 2").contains("Conv2d(6→5, 3×3, stride 1, pad 1)").contains("global-avg (keep dims)");
    }

    @Test
    void batchNormWithItsOwnEpsilonConcatAndReshape() throws Exception {
        Rng.seed(4);
        G g = new G(3, 4, 4);
        String var = g.initValue(new long[]{3}, new float[]{0.01f, 0.5f, 2f});
        String h = g.op("BatchNormalization", List.of("x", g.init(new long[]{3}), g.init(new long[]{3}), g.init(new long[]{3}), var),
                Attribute.ofFloat("epsilon", 1e-2f));
        String a = g.op("Relu", List.of(h));
        String b = g.op("Sigmoid", List.of(h));
        h = g.op("Concat", List.of(a, b, "x"), Attribute.ofInt("axis", 1));   // [N, 9, 4, 4]
        h = g.op("Add", List.of(h, g.op("Tanh", List.of(h))));
        h = g.op("Reshape", List.of(h, longs(g, 0, 9, -1)));          // [N, 9, 16]
        h = g.op("MaxPool", List.of(g.op("Reshape", List.of(h, longs(g, 0, 9, 4, 4)))), Attribute.ofInts("kernel_shape", 2, 2),
                Attribute.ofInts("strides", 2, 2));
        h = g.op("Flatten", List.of(h), Attribute.ofInt("axis", 1));
        check(g.bytes(h), 2, 3, 4, 4);
    }

    /**
     * The file's ε and momentum stay the layer's own, so `train --onnx` trains it as the exporter's framework would: the
     * training-mode output divides by √(σ²_B + ε) and the running mean moves by (1 − momentum) of the batch's (ONNX's
     * convention). Folding ε into the running variance had held only until the first update; momentum had been 0.1 always.
     * The export writes both back.
     */
    @Test
    void batchNormTrainsWithTheFilesEpsilonAndMomentum() throws Exception {
        Rng.seed(5);
        G g = new G(3, 4, 4);
        String h = g.op("BatchNormalization", List.of("x", g.initValue(new long[]{3}, new float[]{1, 1, 1}),
                        g.initValue(new long[]{3}, new float[]{0, 0, 0}), g.initValue(new long[]{3}, new float[]{0, 0, 0}),
                        g.initValue(new long[]{3}, new float[]{1, 1, 1})),
                Attribute.ofFloat("epsilon", 0.5f), Attribute.ofFloat("momentum", 0.75f));
        Module m = check(g.bytes(g.op("Flatten", List.of(h), Attribute.ofInt("axis", 1))), 2, 3, 4, 4);
        dev.tikhon.nn.BatchNorm2d bn = (dev.tikhon.nn.BatchNorm2d) m.modules().stream()
                .filter(x -> x instanceof dev.tikhon.nn.BatchNorm2d).findFirst().orElseThrow();
        assertThat(bn.eps()).isEqualTo(0.5);
        assertThat(bn.momentum()).isEqualTo(0.25);

        Tensor x = Tensor.rand(2, 3, 4, 4).mul(4);
        m.train(true);
        float[] out = m.forward(x).toFloatArray();
        float[] in = x.toFloatArray();
        // channel 0: its 32 values' mean and biased variance, normalized with the file's ε
        double mean = 0, sq = 0;
        for (int n = 0; n < 2; n++) for (int i = 0; i < 16; i++) mean += in[n * 48 + i] / 32.0;
        for (int n = 0; n < 2; n++) for (int i = 0; i < 16; i++) sq += Math.pow(in[n * 48 + i] - mean, 2) / 32.0;
        assertThat((double) out[5]).isCloseTo((in[5] - mean) / Math.sqrt(sq + 0.5), org.assertj.core.data.Offset.offset(1e-5));
        assertThat((double) bn.stateDict().get("running_mean").toFloatArray()[0]).isCloseTo(0.25 * mean, org.assertj.core.data.Offset.offset(1e-6));

        m.train(false);
        OnnxImport.Result back = OnnxImport.read(OnnxExport.toBytes(m, List.of(3L, 4L, 4L)), "again.onnx");
        dev.tikhon.nn.BatchNorm2d again = (dev.tikhon.nn.BatchNorm2d) back.model().modules().stream()
                .filter(x2 -> x2 instanceof dev.tikhon.nn.BatchNorm2d).findFirst().orElseThrow();
        assertThat(again.eps()).isEqualTo(0.5);
        assertThat(again.momentum()).isEqualTo(0.25);
    }

    /**
     * Up to operator set 12, Unsqueeze and Squeeze take their axes as an attribute (an input from 13 on): a constant shape
     * built with them (x.view(0, −1) as operator set 11 writes it) is folded with those axes.
     */
    @Test
    void constantUnsqueezeAndSqueezeReadTheirAxesAttributeBeforeOperatorSet13() throws Exception {
        Rng.seed(12);
        G g = new G(2, 3, 3);
        String entry = g.op("Squeeze", List.of(longs(g, 0)), Attribute.ofInts("axes", 0));      // [1] → a scalar
        String head = g.op("Unsqueeze", List.of(entry), Attribute.ofInts("axes", 0));           // → [1] again
        String shape = g.op("Concat", List.of(head, longs(g, -1)), Attribute.ofInt("axis", 0));  // [0, −1]
        String flat = g.op("Reshape", List.of(g.op("Relu", List.of("x")), shape));
        check(g.bytes(g.op("Gemm", List.of(flat, g.init(new long[]{18, 4}))), 11), 3, 2, 3, 3);
    }

    private static String longs(G g, long... v) {
        String name = "s" + g.g.initializers.size();
        g.g.initializers.add(TensorData.ofLongs(name, new long[]{v.length}, v));
        return name;
    }

    /** x.view(x.size(0), -1) with a dynamic batch: Shape, Gather, Unsqueeze and Concat compute the Reshape's shape at run time. */
    @Test
    void aReshapeToARunTimeShapeKeepsTheBatch() throws Exception {
        Rng.seed(9);
        G g = new G(2, 3, 3);
        String h = g.op("Relu", List.of("x"));
        String batch = g.op("Gather", List.of(g.op("Shape", List.of(h)), scalarLong(g, 0)), Attribute.ofInt("axis", 0));
        String shape = g.op("Concat", List.of(g.op("Unsqueeze", List.of(batch, longs(g, 0))), longs(g, -1)), Attribute.ofInt("axis", 0));
        String flat = g.op("Reshape", List.of(h, shape));
        Module m = check(g.bytes(g.op("Gemm", List.of(flat, g.init(new long[]{18, 4})))), 3, 2, 3, 3);
        assertThat(m.describe()).doesNotContain("reshape[");   // [0, -1] is a flatten

        // the batch read from another value at position 0 is the batch; another value's other axes are its fixed dimension
        // where the file declares the input's shape (here 2), and refused where it leaves one open
        for (long open : new long[]{3, -1}) {
            G o = new G(2, open, 3);
            String r = o.op("Relu", List.of("x"));
            String size = o.op("Shape", List.of(r));
            String b = o.op("Unsqueeze", List.of(o.op("Gather", List.of(size, scalarLong(o, 0))), longs(o, 0)));
            String c = o.op("Unsqueeze", List.of(o.op("Gather", List.of(size, scalarLong(o, 1))), longs(o, 0)));
            String other = o.op("Reshape", List.of("x", o.op("Concat", List.of(b, c, longs(o, -1)), Attribute.ofInt("axis", 0))));
            byte[] otherAxis = o.bytes(o.op("Flatten", List.of(o.op("Relu", List.of(other))), Attribute.ofInt("axis", 1)));
            if (open > 0) {
                check(otherAxis, 3, 2, 3, 3);
            } else {
                assertThatThrownBy(() -> OnnxImport.read(otherAxis, "m.onnx")).isInstanceOf(UserError.class)
                        .hasMessageContaining("Reshape to dimension 1 of another value at position 1");
            }
        }

        G a = new G(4);
        byte[] arithmetic = a.bytes(a.op("Add", List.of("x", a.op("Shape", List.of("x")))));
        assertThatThrownBy(() -> OnnxImport.read(arithmetic, "m.onnx")).isInstanceOf(UserError.class)
                .hasMessageContaining("a shape computed at run time");
    }

    /** GELU as PyTorch exports it (x·½·(1 + erf(x/√2)): Div, Erf, Add, Mul of two computed values, Mul) reads as a graph. */
    @Test
    void geluAsPyTorchExportsIt() throws Exception {
        byte[] gelu = Files.readAllBytes(OnnxImportTest.DIR.resolve("gelu.onnx"));
        Module m = check(gelu, 1, 1, 2, 2);   // exported with a fixed batch of 1
        assertThat(m).isInstanceOf(dev.tikhon.nn.Graph.class);
        assertThat(m.describe()).contains("erf");
    }

    /**
     * ReLU6 and hardtanh (Clip, bounds as inputs from operator set 11 on, as attributes before, either one left out),
     * hard sigmoid with its own α and β, hard swish and ELU against ONNX Runtime, on inputs spread across their kinks.
     */
    @Test
    void clipHardSigmoidHardSwishAndElu() throws Exception {
        Rng.seed(9);
        G g = new G(12);
        String h = g.op("Gemm", List.of("x", g.init(new long[]{12, 12})), Attribute.ofFloat("alpha", 8f));   // ±several units
        String relu6 = g.op("Clip", List.of(h, g.initValue(new long[]{}, new float[]{0f}), g.initValue(new long[]{}, new float[]{6f})));
        String low = g.op("Clip", List.of(h, g.initValue(new long[]{}, new float[]{-1f})));          // no maximum
        String high = g.op("Clip", List.of(h, "", g.initValue(new long[]{}, new float[]{0.5f})));    // no minimum
        String hs = g.op("HardSigmoid", List.of(h), Attribute.ofFloat("alpha", 0.3f), Attribute.ofFloat("beta", 0.4f));
        String hsDefault = g.op("HardSigmoid", List.of(h));
        String elu = g.op("Elu", List.of(h), Attribute.ofFloat("alpha", 0.7f));
        String eluDefault = g.op("Elu", List.of(h));
        String sum = relu6;
        for (String v : List.of(low, high, hs, hsDefault, elu, eluDefault)) {
            sum = g.op("Concat", List.of(sum, g.op("Gemm", List.of(v, g.init(new long[]{12, 3})))), Attribute.ofInt("axis", 1));
        }
        check(g.bytes(sum), 64, 12);

        // HardSwish (operator set 14); Clip with its bounds as attributes (operator set 10)
        G a = new G(12);
        String k = a.op("Gemm", List.of("x", a.init(new long[]{12, 12})), Attribute.ofFloat("alpha", 8f));
        Module hardSwish = check(a.bytes(a.op("HardSwish", List.of(k)), 14), 64, 12);
        assertThat(hardSwish.describe()).contains("hard-swish");
        G b = new G(12);
        String c = b.op("Mul", List.of(b.op("MatMul", List.of("x", b.init(new long[]{12, 12}))), b.initValue(new long[]{}, new float[]{8f})));
        c = b.op("Clip", List.of(c), Attribute.ofFloat("min", -0.2f), Attribute.ofFloat("max", 2.5f));
        Module clip = check(b.bytes(c, 10), 64, 12);
        assertThat(clip.describe()).contains("clip(-0.2", "2.5");
    }

    /**
     * ReduceMean over [2, 3], keeping the axes or not (x.mean((2, 3)) in both forms); a Reshape to [-1, K] where an
     * example has another number of entries than K (it changes the batch) stays a Reshape, not a flatten.
     */
    @Test
    void reduceMeanOverTheSpatialAxesAndReshapesThatAreNotFlattens() throws Exception {
        Rng.seed(12);
        G g = new G(2, 5, 6);
        String keep = g.op("ReduceMean", List.of("x"), Attribute.ofInts("axes", 2, 3));
        String drop = g.op("ReduceMean", List.of("x"), Attribute.ofInts("axes", -1, -2), Attribute.ofInt("keepdims", 0));
        String both = g.op("Concat", List.of(g.op("Flatten", List.of(keep), Attribute.ofInt("axis", 1)), drop), Attribute.ofInt("axis", 1));
        check(g.bytes(both), 3, 2, 5, 6);

        G r = new G(2, 3, 4);
        String rows = r.op("Reshape", List.of("x", longs(r, -1, 4)));   // 24 entries an example: [6N, 4]
        Module m = check(r.bytes(rows), 2, 2, 3, 4);
        assertThat(m.describe()).contains("reshape[-1, 4]");

        G a = new G(2, 5, 6);
        byte[] channels = a.bytes(a.op("ReduceMean", List.of("x"), Attribute.ofInts("axes", 1)));
        assertThatThrownBy(() -> OnnxImport.read(channels, "m.onnx")).isInstanceOf(UserError.class)
                .hasMessageStartingWith("m.onnx: unsupported ReduceMean over axes [1]").hasMessageContaining("node 'node_reducemean0'");
    }

    /** ELU as PyTorch exports it (the fixture elu.onnx) against ONNX Runtime. */
    @Test
    void eluAsPyTorchExportsIt() throws Exception {
        byte[] elu = Files.readAllBytes(OnnxImportTest.DIR.resolve("elu.onnx"));
        Module m = check(elu, 1, 1, 2, 2);   // exported with a fixed batch of 1
        assertThat(m.describe()).contains("elu(1.0)");
    }

    /**
     * Gelu (operator set 20, which PyTorch 1.13 cannot write) with approximate "none" and "tanh", on inputs across
     * [−6, 6]: ONNX Runtime's outputs, and the formula in float64 (erf: libtorch's; tanh: Java's) on the same floats; both
     * imports are read by the bounds as one activation (GELU, tanh-GELU), get a sound Lipschitz constant and export back to
     * files ONNX Runtime computes the same from; another approximate is a one-line error naming it.
     */
    @Test
    void geluOfOperatorSet20InBothModes() throws Exception {
        Rng.seed(7);
        Tensor x = Tensor.rand(64, 6).mul(12).sub(6);
        double[] xs = x.to(dev.tikhon.engine.DType.FLOAT64).contiguous().toDoubleArray();
        Tensor erf = x.to(dev.tikhon.engine.DType.FLOAT64).mul(Math.sqrt(0.5)).erf();
        double[] erfs = erf.contiguous().toDoubleArray();
        for (String mode : List.of("none", "tanh")) {
            G g = new G(6);
            byte[] onnx = g.bytes(g.op("Gelu", List.of("x"), Attribute.ofString("approximate", mode)), 20);
            Module m = OnnxImport.read(onnx, "gelu20.onnx").model();
            float[] out;
            try (Autograd.Guard ng = Autograd.noGrad()) {
                out = m.forward(x).toFloatArray();
            }
            OnnxImportTest.assertClose(out, OnnxRuntimeOracle.logits(onnx, x), 1e-5);
            float[] formula = new float[xs.length];
            for (int i = 0; i < xs.length; i++) {
                double v = xs[i];
                formula[i] = (float) (mode.equals("none") ? 0.5 * v * (1 + erfs[i])
                        : 0.5 * v * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (v + 0.044715 * v * v * v))));
            }
            OnnxImportTest.assertClose(out, formula, 1e-5);
            List<dev.tikhon.nn.Graph.Part> chain = ((dev.tikhon.nn.Graph) m).asChain();
            assertThat(chain).hasSize(2);
            dev.tikhon.verify.Pointwise unit = dev.tikhon.verify.Pointwise.of(((dev.tikhon.nn.Graph.Layer) chain.get(0)).module());
            assertThat(unit).as(mode).isNotNull();
            assertThat(unit.name()).contains(mode.equals("none") ? "gelu" : "tanh-gelu");
            assertThat(dev.tikhon.lipschitz.NetworkBound.of(m, new long[]{6}, 0).total()).isBetween(1.1289, 1.1291);
            // export writes the nodes back (operator set 13): ONNX Runtime computes the same
            OnnxImportTest.assertClose(OnnxRuntimeOracle.logits(OnnxExport.toBytes(m, List.of(6L)), x), out, 1e-5);
        }
        G other = new G(6);
        byte[] fast = other.bytes(other.op("Gelu", List.of("x"), Attribute.ofString("approximate", "fast")), 20);
        assertThatThrownBy(() -> OnnxImport.read(fast, "m.onnx")).isInstanceOf(UserError.class)
                .hasMessageStartingWith("m.onnx: node 'node_gelu0' (Gelu) has approximate 'fast'");
    }

    private static String scalarLong(G g, long v) {
        String name = "k" + g.g.initializers.size();
        g.g.initializers.add(TensorData.ofLongs(name, new long[0], new long[]{v}));
        return name;
    }

    @Test
    void aFinalLogSoftmaxIsDroppedWithANote() throws Exception {
        Rng.seed(5);
        G g = new G(6);
        String logits = g.op("Gemm", List.of("x", g.init(new long[]{6, 4})));
        byte[] onnx = g.bytes(g.op("LogSoftmax", List.of(logits), Attribute.ofInt("axis", 1)));
        OnnxImport.Result r = OnnxImport.read(onnx, "m.onnx");
        assertThat(r.notes()).singleElement().asString().contains("dropped the final LogSoftmax (node 'node_logsoftmax2')");
        Tensor x = Tensor.rand(3, 6);
        float[] ort = OnnxRuntimeOracle.logits(onnx, x);
        Tensor log;
        try (Autograd.Guard ng = Autograd.noGrad()) {
            log = r.model().forward(x).logSoftmax(1);
        }
        OnnxImportTest.assertClose(log.toFloatArray(), ort, 1e-5);   // the logits, up to the per-example constant it removes
    }

    @Test
    void theFixturesAndTheseGraphsCoverEveryListedOperator() throws Exception {
        Set<String> seen = new HashSet<>(List.of("Identity", "Dropout", "Constant", "LogSoftmax", "HardSwish", "Gelu"));   // tests above
        for (String f : List.of("mlp", "cnn", "cnn_plain", "residual", "padded", "fmnist_cnn", "viewed", "gelu", "mobile", "elu", "lenet", "prelu", "keras_cnn", "sliced", "sliced_9")) {
            OnnxProto.Model m = OnnxProto.Model.parse(Files.readAllBytes(OnnxImportTest.DIR.resolve(f + ".onnx")));
            for (Node n : m.graph.nodes) seen.add(n.opType);
        }
        // the smooth ReLU, exported op for op (Abs, Pow, Less, Where), is read back in OnnxExportTest's round trip
        byte[] smooth = OnnxExport.toBytes(OnnxExportTest.model("cnn-smooth-relu"), List.of(1L, 8L, 8L));
        for (Node n : OnnxProto.Model.parse(smooth).graph.nodes) seen.add(n.opType);
        assertThat(seen).containsAll(OnnxImport.OPERATORS);
    }

    @Test
    void unsupportedFormsAreOneLineErrorsNamingTheNode() throws Exception {
        G g = new G(4);
        String h = g.op("Softmax", List.of("x"));
        h = g.op("Gemm", List.of(h, g.init(new long[]{4, 2})));
        byte[] softmaxInside = g.bytes(h);
        assertThatThrownBy(() -> OnnxImport.read(softmaxInside, "m.onnx")).isInstanceOf(UserError.class)
                .hasMessageContaining("node 'node_softmax0' (Softmax) is not the last node");

        G p = new G(1, 4, 4);
        String c = p.op("Conv", List.of("x", p.init(new long[]{2, 1, 3, 3})), Attribute.ofInts("pads", 0, 0, 1, 1));
        byte[] asymmetric = p.bytes(c);
        assertThatThrownBy(() -> OnnxImport.read(asymmetric, "m.onnx")).isInstanceOf(UserError.class)
                .hasMessageContaining("node 'node_conv1' (Conv) has pads [0, 0, 1, 1]");

        G u = new G(4);
        String e = u.op("Selu", List.of("x"));
        byte[] selu = u.bytes(e);
        assertThatThrownBy(() -> OnnxImport.read(selu, "m.onnx")).isInstanceOf(UserError.class)
                .hasMessageStartingWith("m.onnx: unsupported operator Selu in node 'node_selu0'");

        G two = new G(4);
        two.g.inputs.add(new ValueInfo("y", OnnxProto.FLOAT, List.of(-1L, 4L)));
        byte[] twoInputs = two.bytes(two.op("Add", List.of("x", "y")));
        assertThatThrownBy(() -> OnnxImport.read(twoInputs, "m.onnx")).isInstanceOf(UserError.class).hasMessageContaining("has 2 inputs [x, y]");

        assertThatThrownBy(() -> OnnxImport.read(new byte[]{1, 2, 3, 4, 5}, "junk.onnx")).isInstanceOf(UserError.class)
                .hasMessageStartingWith("junk.onnx is not an ONNX model");
    }
}
