package dev.tikhon.onnx;

import dev.tikhon.UserError;
import dev.tikhon.attack.Norm;
import dev.tikhon.engine.Autograd;
import dev.tikhon.engine.DType;
import dev.tikhon.engine.Device;
import dev.tikhon.engine.Rng;
import dev.tikhon.engine.Tensor;
import dev.tikhon.lipschitz.NetworkBound;
import dev.tikhon.nn.Graph;
import dev.tikhon.nn.Module;
import dev.tikhon.onnx.OnnxProto.Attribute;
import dev.tikhon.onnx.OnnxProto.TensorData;
import dev.tikhon.verify.BoundOracles;
import dev.tikhon.verify.BoundedNetwork;
import dev.tikhon.verify.InputRegion;
import dev.tikhon.verify.Interval;
import dev.tikhon.verify.LowerSlope;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * Slices and splits of computed values (make_sliced.py: a ShuffleNetV2-style unit from torch.chunk, a torch.split joined
 * again in the other order, x[:, -3:, 1:3], two heads sliced from one linear layer and added), in float64. Oracles: at
 * ε = 0 IBP and CROWN equal the margins; at ε &gt; 0, in ℓ∞ and ℓ2, every bound contains the margins at sampled points; a
 * slice moved by one entry fails those checks (the mutation they must catch); the sound Lipschitz bound lies above sampled
 * gradient norms; ONNX Runtime computes what the export of the imported model computes.
 */
class SlicedGraphTest {
    private static final long[] IN = {2, 4, 4};

    private static Module sliced() {
        Module m = OnnxImport.load(OnnxImportTest.DIR.resolve("sliced.onnx")).model().to(DType.FLOAT64);
        m.train(false);
        return m;
    }

    private static Tensor inputs(int n) {
        Rng.seed(3);
        return Tensor.rand(DType.FLOAT64, Device.CPU, n, IN[0], IN[1], IN[2]);
    }

    /** The graph as a chain: forks whose chains start with slices of the fork's value, joined by concatenations and a sum. */
    @Test
    void theChainJoinsSlicesOfOneValue() {
        List<Graph.Part> chain = ((Graph) sliced()).asChain();
        List<Graph.Concat> joins = chain.stream().filter(p -> p instanceof Graph.Concat).map(p -> (Graph.Concat) p).toList();
        assertThat(joins).hasSize(2);   // chunk → [a; branch(b)], split → [q; tanh(p)]
        for (Graph.Concat c : joins) {
            assertThat(c.chains()).hasSize(2).allSatisfy(ch -> assertThat(((Graph.Layer) ch.get(0)).module()).isInstanceOf(OnnxLayers.Slice.class));
        }
        Graph.Sum heads = (Graph.Sum) chain.get(chain.size() - 1);   // z[:, :4] + z[:, 4:]
        for (List<Graph.Part> head : List.of(heads.left(), heads.right())) {
            assertThat(head).singleElement().satisfies(p -> assertThat(((Graph.Layer) p).module()).isInstanceOf(OnnxLayers.Slice.class));
        }
    }

    /** IBP, CROWN and (in ℓ∞) α-CROWN: exact at ε = 0, containing the sampled margins at ε &gt; 0. */
    @Test
    void boundsAreExactAtZeroAndContainSampledMargins() {
        Module m = sliced();
        Tensor x = inputs(2), spec = BoundOracles.spec(m, x);
        BoundedNetwork net = BoundedNetwork.of(m);
        BoundOracles.assertExactAtZero(net, m, spec, x, 1e-9);
        for (Norm norm : Norm.values()) {
            double eps = norm == Norm.LINF ? 0.03 : 0.2;
            InputRegion region = InputRegion.images(x, eps, norm);
            Interval ibp = net.ibp(region, spec), crown = net.crown(region, spec);
            assertThat(crown.lo().sub(ibp.lo()).max().item()).as(norm + ": not vacuous, CROWN tighter somewhere").isPositive();
            List<Interval> bounds = new ArrayList<>(List.of(ibp, crown));
            if (norm == Norm.LINF) {   // (α-CROWN's ascent is the slow part: one norm, two steps)
                Tensor alpha = net.alphaCrownLower(region, spec, BoundedNetwork.DEFAULT_CROWN_UNITS, 2, 0.1);
                assertThat(alpha.sub(crown.lo()).min().item()).as(norm + ": α-CROWN never below CROWN").isGreaterThan(-1e-9);
                bounds.add(new Interval(alpha, crown.hi()));
            }
            BoundOracles.assertContainsSamples(m, spec, x, norm, eps, 100, 1e-9, bounds.toArray(Interval[]::new));
        }
        // the rounding of every step accounted for (a slice is exact): never tighter; IBP at most a billionth looser in
        // float64 (CROWN's lower bounds here move by up to 2e-5 relative on two of eight rows, as much without intermediate
        // CROWN passes: a relaxation choice that flips, not the slices' rounding, which is none)
        InputRegion region = InputRegion.images(x, 0.03, Norm.LINF);
        for (boolean crown : new boolean[]{false, true}) {
            Interval plain = crown ? net.crown(region, spec) : net.ibp(region, spec);
            Interval accounted = dev.tikhon.verify.Rounding.accounted(() -> crown ? BoundedNetwork.of(m).crown(region, spec) : BoundedNetwork.of(m).ibp(region, spec));
            assertThat(plain.lo().sub(accounted.lo()).min().item()).as("accounted lower never tighter").isGreaterThanOrEqualTo(0);
            assertThat(accounted.hi().sub(plain.hi()).min().item()).as("accounted upper never tighter").isGreaterThanOrEqualTo(0);
            if (!crown) {
                Tensor scale = plain.lo().abs().add(plain.hi().abs()).add(1);
                assertThat(plain.lo().sub(accounted.lo()).div(scale).max().item()).isLessThan(1e-9);
                assertThat(accounted.hi().sub(plain.hi()).div(scale).max().item()).isLessThan(1e-9);
            }
        }
    }

    /** The mutation the oracles must catch: the chunk's second half read one channel early (channels 1–2, not 2–3). */
    @Test
    void aSliceMovedByOneEntryFailsTheOracles() {
        Graph g = (Graph) sliced();
        List<Graph.Node> nodes = new ArrayList<>(g.nodes());
        int k = 0;
        while (!(nodes.get(k).module() instanceof OnnxLayers.Slice half && half.start() == 2)) k++;
        OnnxLayers.Slice s = (OnnxLayers.Slice) nodes.get(k).module();
        nodes.set(k, Graph.Node.apply(new OnnxLayers.Slice(s.axis(), s.start() - 1, s.end() - 1), nodes.get(k).inputs()[0]));
        Graph mutant = new Graph(nodes, g.output());
        mutant.train(false);
        Tensor x = inputs(4), spec = BoundOracles.spec(g, x);
        BoundedNetwork net = BoundedNetwork.of(mutant);
        assertThatThrownBy(() -> BoundOracles.assertExactAtZero(net, g, spec, x, 1e-9)).isInstanceOf(AssertionError.class);
        Interval crown = net.crown(InputRegion.images(x, 1e-4, Norm.LINF), spec);
        assertThatThrownBy(() -> BoundOracles.assertContainsSamples(g, spec, x, Norm.LINF, 1e-4, 20, 1e-9, crown)).isInstanceOf(AssertionError.class);
    }

    /** A slice is a coordinate projection (constant 1): the sound bound lies above the gradient norm of every output at sampled points. */
    @Test
    void theLipschitzBoundLiesAboveSampledGradients() {
        Module m = sliced();
        NetworkBound bound = NetworkBound.of(m, IN, 0);
        double total = bound.total();
        assertThat(total).isPositive().isFinite();
        Tensor x = inputs(16).requiresGrad(true);
        Tensor out = m.forward(x);
        double largest = 0;
        for (int k = 0; k < out.size(1); k++) {
            Tensor grad = Autograd.grad(out.select(1, k).sum(), x, true);
            largest = Math.max(largest, grad.flatten(1, -1).norm(2, new long[]{1}, false).max().item());
        }
        assertThat(largest).isPositive().isLessThanOrEqualTo(total);
    }

    /** Branch and bound takes a slice as any linear layer: its bound is at least CROWN's and below the sampled worst margins. */
    @Test
    void branchAndBoundStaysSound() {
        Module m = sliced();
        Tensor x = inputs(3);
        Tensor labels;
        try (Autograd.Guard g = Autograd.noGrad()) {
            labels = m.forward(x).argmax(1);
        }
        Tensor spec = BoundedNetwork.marginsOverOthers(labels, 4, x);
        double eps = 0.02;
        InputRegion region = InputRegion.ball(x, eps, Norm.LINF);
        BoundedNetwork b = BoundedNetwork.of(m);
        Tensor bab = dev.tikhon.verify.BranchAndBound.worstLower(b, region, spec, BoundedNetwork.DEFAULT_CROWN_UNITS,
                dev.tikhon.verify.BranchAndBound.Settings.DEFAULT.withDomains(32));
        Tensor crown = b.crownLower(region, spec, BoundedNetwork.DEFAULT_CROWN_UNITS, LowerSlope.ADAPTIVE).minWithIndex(1)[0];
        assertThat(bab.sub(crown).min().item()).as("at least CROWN").isGreaterThanOrEqualTo(-1e-9);
        for (int i = 0; i < 100; i++) {
            Tensor worst = BoundOracles.margins(m, spec, x.add(BoundOracles.perturbation(x, Norm.LINF, eps, i))).minWithIndex(1)[0];
            assertThat(worst.sub(bab).min().item()).as("sample %d", i).isGreaterThanOrEqualTo(-1e-9);
        }
    }

    /** CROWN-IBP certified training differentiates through the slices: a finite loss, finite gradients that reach every layer. */
    @Test
    void certifiedTrainingDifferentiatesThroughSlices() {
        Module m = OnnxImport.load(OnnxImportTest.DIR.resolve("sliced.onnx")).model();
        m.train(true);
        var objective = new dev.tikhon.verify.CertifiedTraining(dev.tikhon.verify.CertifiedTraining.Bound.CROWN_IBP, Norm.LINF, 0.05, 0, 1, 0.5);
        objective.progress(0.5);
        Rng.seed(5);
        Tensor x = Tensor.rand(8, IN[0], IN[1], IN[2]), y = Tensor.randint(4, Device.CPU, 8);
        Tensor loss = objective.evaluate(m, x, y).loss();
        assertThat(Double.isFinite(loss.item())).isTrue();
        List<Tensor> params = m.parameters().stream().map(p -> p.value()).toList();
        List<Tensor> grads = Autograd.grad(List.of(loss), params, null, false, false);
        for (int i = 0; i < grads.size(); i++) {
            assertThat(grads.get(i).isFinite().logicalNot().sum().item()).as(m.parameters().get(i).name() + " finite").isEqualTo(0.0);
        }
        assertThat(grads.stream().filter(g -> g.abs().sum().item() > 0).count()).as("parameters reached").isGreaterThanOrEqualTo(grads.size() - 2);
    }

    /** The imported model exported again (Slice with inputs, operator set 13): ONNX Runtime computes Tikhon's outputs, and it reads back the same. */
    @Test
    void exportWritesTheSlicesBack() throws Exception {
        Module m = OnnxImport.load(OnnxImportTest.DIR.resolve("sliced.onnx")).model();
        byte[] out = OnnxExport.toBytes(m, List.of(IN[0], IN[1], IN[2]));
        Tensor x = Tensor.rand(3, IN[0], IN[1], IN[2]);
        float[] tikhon;
        try (Autograd.Guard g = Autograd.noGrad()) {
            tikhon = m.forward(x).toFloatArray();
            OnnxImportTest.assertClose(OnnxImport.read(out, "back.onnx").model().forward(x).toFloatArray(), tikhon, 1e-6);
        }
        OnnxImportTest.assertClose(OnnxRuntimeOracle.logits(out, x), tikhon, 1e-5);
    }

    // ------------------------------------------------------------------ the other forms, against ONNX Runtime; the errors

    private static String longs(OnnxOperatorsTest.G g, String name, long... v) {
        g.g.initializers.add(TensorData.ofLongs(name, new long[]{v.length}, v));
        return name;
    }

    /**
     * Slice with a negative axis and start, steps given as 1, two axes at once, an axis taken whole; Split into equal parts
     * without sizes (operator set 13) and into num_outputs uneven parts (operator set 18); Slice and Split with attributes
     * (operator set 9).
     */
    @Test
    void theOtherFormsMatchOnnxRuntime() throws Exception {
        Rng.seed(9);
        OnnxOperatorsTest.G g = new OnnxOperatorsTest.G(5, 3, 4);
        String h = g.op("Relu", List.of("x"));
        String a = g.op("Slice", List.of(h, longs(g, "s0", -3, 1), longs(g, "e0", Long.MAX_VALUE, 3), longs(g, "a0", -3, -1), longs(g, "st0", 1, 1)));
        String b = g.op("Slice", List.of(h, longs(g, "s1", 0, 0), longs(g, "e1", Long.MAX_VALUE, 2), longs(g, "a1", 0, 1)));   // batch whole, channels 0–1
        OnnxProto.Node split = new OnnxProto.Node("Split", "node_split", List.of(b), List.of("p", "q"));
        split.attributes.add(Attribute.ofInt("axis", 1));
        g.g.nodes.add(split);
        List<String> flat = new ArrayList<>();
        for (String v : List.of("q", a, "p")) flat.add(g.op("Flatten", List.of(v), Attribute.ofInt("axis", 1)));
        OnnxOperatorsTest.check(g.bytes(g.op("Concat", flat, Attribute.ofInt("axis", 1))), 2, 5, 3, 4);

        OnnxOperatorsTest.G u = new OnnxOperatorsTest.G(5, 2, 2);
        OnnxProto.Node uneven = new OnnxProto.Node("Split", "node_split", List.of("x"), List.of("p", "q", "r"));
        uneven.attributes.add(Attribute.ofInt("axis", 1));
        uneven.attributes.add(Attribute.ofInt("num_outputs", 3));   // 2, 2, 1
        u.g.nodes.add(uneven);
        String joined = u.op("Concat", List.of("r", "p", "q"), Attribute.ofInt("axis", 1));
        OnnxOperatorsTest.check(u.bytes(u.op("Flatten", List.of(joined), Attribute.ofInt("axis", 1)), 18), 2, 5, 2, 2);

        OnnxOperatorsTest.G old = new OnnxOperatorsTest.G(6, 2);
        String s = old.op("Slice", List.of("x"), Attribute.ofInts("starts", 1), Attribute.ofInts("ends", -1), Attribute.ofInts("axes", 1));
        OnnxProto.Node parts = new OnnxProto.Node("Split", "node_split", List.of(s), List.of("p", "q"));
        parts.attributes.add(Attribute.ofInt("axis", 1));
        parts.attributes.add(Attribute.ofInts("split", 1, 3));
        old.g.nodes.add(parts);
        String back = old.op("Concat", List.of("q", "p"), Attribute.ofInt("axis", 1));
        OnnxOperatorsTest.check(old.bytes(old.op("Flatten", List.of(back), Attribute.ofInt("axis", 1)), 9), 2, 6, 2);
    }

    @Test
    void aStridedSliceOrOneOfTheBatchIsRefusedNamingTheNodeAndTheFix() throws Exception {
        OnnxOperatorsTest.G g = new OnnxOperatorsTest.G(4);
        String h = g.op("Relu", List.of("x"));
        String strided = g.op("Slice", List.of(h, longs(g, "s", 0), longs(g, "e", 4), longs(g, "a", 1), longs(g, "st", 2)));
        byte[] bytes = g.bytes(strided);
        assertThatThrownBy(() -> OnnxImport.read(bytes, "strided.onnx")).isInstanceOf(UserError.class)
                .hasMessageContaining("strided.onnx").hasMessageContaining("node '" + "node_" + strided + "' (Slice) has step 2")
                .hasMessageContaining("slices of step 1");

        OnnxOperatorsTest.G b = new OnnxOperatorsTest.G(4);
        String batch = b.op("Slice", List.of(b.op("Relu", List.of("x")), longs(b, "s", 1), longs(b, "e", 3), longs(b, "a", 0)));
        byte[] batchBytes = b.bytes(batch);
        assertThatThrownBy(() -> OnnxImport.read(batchBytes, "batch.onnx")).isInstanceOf(UserError.class)
                .hasMessageContaining("node '" + "node_" + batch + "' (Slice) slices the batch axis").hasMessageContaining("outside the model");

        OnnxOperatorsTest.G p = new OnnxOperatorsTest.G(4);
        OnnxProto.Node split = new OnnxProto.Node("Split", "node_split", List.of("x"), List.of("p", "q"));
        p.g.nodes.add(split);   // axis 0 by default
        byte[] splitBytes = p.bytes("p");
        assertThatThrownBy(() -> OnnxImport.read(splitBytes, "split.onnx")).isInstanceOf(UserError.class)
                .hasMessageContaining("node 'node_split' (Split) splits the batch axis");
    }
}
