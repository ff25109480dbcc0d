package dev.tikhon.onnx;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.tikhon.engine.Autograd;
import dev.tikhon.engine.Tensor;
import dev.tikhon.engine.DType;
import dev.tikhon.lipschitz.NetworkBound;
import dev.tikhon.nn.Graph;
import dev.tikhon.nn.Module;
import dev.tikhon.nn.Parameter;
import dev.tikhon.verify.BoundedNetwork;
import dev.tikhon.verify.InputRegion;
import dev.tikhon.verify.Interval;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.io.IOException;
import java.nio.file.Path;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

/** Oracle: PyTorch's logits and input gradients for the models it exported (src/test/resources/onnx/make_fixtures.py). */
class OnnxImportTest {
    static final Path DIR = Path.of("src/test/resources/onnx");

    record Fixture(Tensor input, Tensor v, float[] logits, long[] logitsShape, float[] inputGrad) {
        static Fixture of(String name) throws IOException {
            JsonNode j = new ObjectMapper().readTree(DIR.resolve(name + ".json").toFile());
            long[] shape = longs(j.get("input_shape"));
            long[] ls = longs(j.get("logits_shape"));
            return new Fixture(Tensor.fromFloats(floats(j.get("input")), shape), Tensor.fromFloats(floats(j.get("v")), ls),
                    floats(j.get("logits")), ls, floats(j.get("input_grad")));
        }
    }

    static float[] floats(JsonNode a) {
        float[] f = new float[a.size()];
        for (int i = 0; i < f.length; i++) f[i] = (float) a.get(i).asDouble();
        return f;
    }

    static long[] longs(JsonNode a) {
        long[] f = new long[a.size()];
        for (int i = 0; i < f.length; i++) f[i] = a.get(i).asLong();
        return f;
    }

    static void assertClose(float[] actual, float[] expected, double tol) {
        assertThat(actual).hasSameSizeAs(expected);
        for (int i = 0; i < actual.length; i++) assertThat((double) actual[i]).as("element %d", i).isCloseTo(expected[i], within(tol));
    }

    @ParameterizedTest
    @ValueSource(strings = {"mlp", "cnn", "cnn_plain", "residual", "padded", "normalized", "viewed", "mobile", "lenet", "lenet_chain", "prelu", "silu", "tanh_gelu", "sliced"})
    void logitsAndInputGradientsMatchPyTorch(String name) throws IOException {
        Fixture f = Fixture.of(name);
        OnnxImport.Result r = OnnxImport.load(DIR.resolve(name + ".onnx"));
        Module m = r.model();
        System.out.println(name + ": " + m.describe());
        Tensor x = f.input().requiresGrad(true);
        Tensor out = m.forward(x);
        assertThat(out.shape()).containsExactly(f.logitsShape());
        assertClose(out.toFloatArray(), f.logits(), 1e-5);
        Tensor g = Autograd.grad(out.mul(f.v()).sum(), x, false);
        assertClose(g.toFloatArray(), f.inputGrad(), 1e-4);
    }

    /**
     * nn.GELU(approximate='tanh') at operator set 17 (make_tanh_gelu.py: the same weights as tanh_gelu.onnx, the same
     * nodes) gives PyTorch's logits and gradients, and both files' products read as one activation each.
     */
    @Test
    void tanhGeluAtOperatorSets13And17() throws IOException {
        Fixture f = Fixture.of("tanh_gelu");
        for (String file : List.of("tanh_gelu.onnx", "tanh_gelu_17.onnx")) {
            Module m = OnnxImport.load(DIR.resolve(file)).model();
            Tensor x = f.input().requiresGrad(true);
            Tensor out = m.forward(x);
            assertClose(out.toFloatArray(), f.logits(), 1e-5);
            assertClose(Autograd.grad(out.mul(f.v()).sum(), x, false).toFloatArray(), f.inputGrad(), 1e-4);
            List<Graph.Part> chain = ((Graph) m).asChain();
            assertThat(chain).allMatch(p -> p instanceof Graph.Layer);
            assertThat(chain.stream().map(p -> dev.tikhon.verify.Pointwise.of(((Graph.Layer) p).module())).filter(java.util.Objects::nonNull)
                    .map(dev.tikhon.verify.Pointwise::name)).as(file).containsExactly("2.0·tanh-gelu(1.0·x)", "2.0·tanh-gelu(1.0·x)");
        }
    }

    /**
     * Slices and splits of computed values (make_sliced.py) in both forms: at operator set 13 (torch.chunk's bounds computed
     * from a channel count by Shape, Gather, Add, Div, Mul; Split and Slice with constant inputs) and at operator set 9
     * (Split and Slice with attributes), the same weights: PyTorch's logits and input gradients, and the same layers.
     */
    @Test
    void slicesAndSplitsAtOperatorSets13And9() throws IOException {
        Fixture f = Fixture.of("sliced");
        String described = null;
        for (String file : List.of("sliced.onnx", "sliced_9.onnx")) {
            Module m = OnnxImport.load(DIR.resolve(file)).model();
            Tensor x = f.input().requiresGrad(true);
            Tensor out = m.forward(x);
            assertClose(out.toFloatArray(), f.logits(), 1e-5);
            assertClose(Autograd.grad(out.mul(f.v()).sum(), x, false).toFloatArray(), f.inputGrad(), 1e-4);
            long slices = ((Graph) m).nodes().stream().filter(n -> n.module() instanceof OnnxLayers.Slice).count();
            assertThat(slices).as(file + ": chunk 2, split 2, x[:, -3:, 1:3] 2, the heads 2").isEqualTo(8);
            if (described == null) described = m.describe();
            else assertThat(m.describe().replace("slice(axis 1, 2:4)", "?").replace("slice(axis 1, 2:)", "?")).as(file)
                    .isEqualTo(described.replace("slice(axis 1, 2:4)", "?").replace("slice(axis 1, 2:)", "?"));
        }
    }

    /**
     * Double backprop on an imported graph (skip connection, concat, constants) in float64: the parameter gradient of
     * the input-gradient penalty ‖∇ₓ Σ v·f‖², by autograd through the first backward pass, against central differences.
     */
    @ParameterizedTest
    @ValueSource(strings = {"residual", "cnn", "sliced"})
    void doubleBackpropMatchesFiniteDifferences(String name) throws IOException {
        Fixture f = Fixture.of(name);
        Module m = OnnxImport.load(DIR.resolve(name + ".onnx")).model();
        m.to(DType.FLOAT64);
        Tensor x = f.input().to(DType.FLOAT64), v = f.v().to(DType.FLOAT64);
        java.util.function.Supplier<Tensor> penalty = () -> {
            Tensor xg = x.copy().requiresGrad(true);
            Tensor g = Autograd.grad(m.forward(xg).mul(v).sum(), xg, true);
            return g.square().sum();
        };
        java.util.List<Parameter> params = m.parameters();
        java.util.List<Tensor> values = params.stream().map(Parameter::value).toList();
        java.util.List<Tensor> grads = Autograd.grad(java.util.List.of(penalty.get()), values, null, false, false);
        double eps = 1e-6;
        int checked = 0;
        for (int p = 0; p < params.size(); p++) {
            Tensor w = values.get(p), flat = w.view(-1);
            for (long i = 0; i < Math.min(3, w.numel()); i++) {
                long k = (i * 7919) % w.numel();
                double orig = flat.select(0, k).item(), plus, minus;
                try (Autograd.Guard ng = Autograd.noGrad()) { flat.select(0, k).fill_(orig + eps); }
                plus = penalty.get().item();
                try (Autograd.Guard ng = Autograd.noGrad()) { flat.select(0, k).fill_(orig - eps); }
                minus = penalty.get().item();
                try (Autograd.Guard ng = Autograd.noGrad()) { flat.select(0, k).fill_(orig); }
                double fd = (plus - minus) / (2 * eps), ad = grads.get(p).reshape(-1).select(0, k).item();
                assertThat(ad).as("%s %s[%d]", name, params.get(p).name(), k).isCloseTo(fd, within(1e-5 * (1 + Math.abs(fd))));
                checked++;
            }
        }
        assertThat(checked).isGreaterThan(6);
    }

    /** PyTorch's (x − mean) / std in front of a chain is Tikhon's Normalize, which the Lipschitz bound composes (max 1/std). */
    @org.junit.jupiter.api.Test
    void aNormalizationInFrontOfAChainIsANormalizeLayer() throws IOException {
        Module m = OnnxImport.load(DIR.resolve("normalized.onnx")).model();
        assertThat(((dev.tikhon.nn.Sequential) m).layers().get(0)).isInstanceOf(dev.tikhon.nn.Normalize.class);
        dev.tikhon.nn.Normalize n = (dev.tikhon.nn.Normalize) ((dev.tikhon.nn.Sequential) m).layers().get(0);
        assertThat(n.stats().mean()).containsExactly(new double[]{0.49, 0.48, 0.45}, within(1e-7));
        assertThat(n.stats().std()).containsExactly(new double[]{0.25, 0.24, 0.26}, within(1e-7));
        NetworkBound b = NetworkBound.of(m, new long[]{3, 8, 8}, 0);
        assertThat(b.layers().get(0).upper()).isCloseTo(1 / 0.24, within(1e-5));
    }

    /** An imported chain of Tikhon's own layers gets a sound Lipschitz bound and verified bounds that contain its outputs. */
    @org.junit.jupiter.api.Test
    void lipschitzBoundsAndVerifiersApplyToAnImportedChain() throws IOException {
        Fixture f = Fixture.of("cnn_plain");
        Module m = OnnxImport.load(DIR.resolve("cnn_plain.onnx")).model();
        NetworkBound b = NetworkBound.of(m, new long[]{1, 8, 8}, 20);
        assertThat(b.total()).isPositive().isFinite();
        for (NetworkBound.Layer l : b.layers()) assertThat(l.upper()).as(l.name()).isGreaterThanOrEqualTo(l.lower() * (1 - 1e-6));
        // the bound holds for the input gradient PyTorch computed: Σₙ ‖Jₙᵀvₙ‖² ≤ L² Σₙ ‖vₙ‖²
        double gradNorm = 0, vNorm = 0;
        for (float g : f.inputGrad()) gradNorm += g * g;
        for (float w : f.v().toFloatArray()) vNorm += w * w;
        assertThat(Math.sqrt(gradNorm)).isLessThanOrEqualTo(b.total() * Math.sqrt(vNorm));

        Tensor x = f.input();
        Tensor out;
        try (Autograd.Guard g = Autograd.noGrad()) {
            out = m.forward(x);
        }
        Tensor labels = out.argmax(1);
        Tensor spec = BoundedNetwork.margins(labels, 10, out);
        Interval ibp = BoundedNetwork.of(m).crown(InputRegion.images(x, 0.01, dev.tikhon.attack.Norm.LINF), spec);
        Tensor margins = spec.matmul(out.unsqueeze(2)).squeeze(2);
        assertThat(margins.sub(ibp.lo()).min().item()).as("sound lower bounds of the margins").isGreaterThanOrEqualTo(-1e-5);
        assertThat(ibp.hi().sub(margins).min().item()).isGreaterThanOrEqualTo(-1e-5);
    }
}
