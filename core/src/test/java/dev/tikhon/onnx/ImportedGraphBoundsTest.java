package dev.tikhon.onnx;

import dev.tikhon.UserError;
import dev.tikhon.attack.Norm;
import dev.tikhon.engine.Autograd;
import dev.tikhon.engine.DType;
import dev.tikhon.engine.Device;
import dev.tikhon.engine.Rng;
import dev.tikhon.engine.Tensor;
import dev.tikhon.lipschitz.NetworkBound;
import dev.tikhon.nn.Activation;
import dev.tikhon.nn.Conv2d;
import dev.tikhon.nn.Graph;
import dev.tikhon.nn.Linear;
import dev.tikhon.nn.Module;
import dev.tikhon.nn.Pool;
import dev.tikhon.verify.BoundedNetwork;
import dev.tikhon.verify.InputRegion;
import dev.tikhon.verify.Interval;
import dev.tikhon.verify.Rounding;
import dev.tikhon.verify.BoundOracles;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

/**
 * Bound propagation and the Lipschitz composition rules on imported graphs (skip connections, concatenations, arithmetic
 * with constants).
 * Oracles: a Tikhon resnet exported to ONNX and read back is the same network, so its bounds must be the ones of the
 * native model (whose residual blocks the verifier and the rules know); at ε = 0 the bounds are the margins; sampled
 * points of the region never leave the bounds; the chain {@link Graph#asChain} writes computes the graph's function.
 */
class ImportedGraphBoundsTest {

    @ParameterizedTest
    @ValueSource(strings = {"resnet", "resnet-nobn"})
    void anExportedResnetReadBackGetsTheNativeModelsBounds(String kind) {
        Module m = OnnxExportTest.model(kind);
        long[] s = OnnxExportTest.inputShape(m, kind);
        Module back = OnnxImport.read(OnnxExport.toBytes(m, List.of(s[1], s[2], s[3])), kind + ".onnx").model();
        assertThat(back).isInstanceOf(Graph.class);
        Tensor x = Tensor.rand(s);
        Tensor spec = BoundOracles.spec(m, x);
        for (Norm norm : Norm.values()) {
            InputRegion region = InputRegion.ball(x, norm == Norm.LINF ? 0.01 : 0.05, norm);
            assertSame(BoundedNetwork.of(back).ibp(region, spec), BoundedNetwork.of(m).ibp(region, spec), "IBP " + norm);
            assertSame(BoundedNetwork.of(back).crown(region, spec), BoundedNetwork.of(m).crown(region, spec), "CROWN " + norm);
        }
        long[] in = {s[1], s[2], s[3]};
        assertThat(NetworkBound.of(back, in, 0).total()).as("sound Lipschitz bound")
                .isCloseTo(NetworkBound.of(m, in, 0).total(), within(1e-9 * NetworkBound.of(m, in, 0).total()));
    }

    /** PyTorch's residual network with batch norm folded, an identity skip and x.view(x.size(0), -1): bounds contain its margins. */
    @Test
    void aPyTorchResidualNetworkIsBounded() throws Exception {
        OnnxImportTest.Fixture f = OnnxImportTest.Fixture.of("viewed");
        Module m = OnnxImport.load(OnnxImportTest.DIR.resolve("viewed.onnx")).model();
        assertThat(m).isInstanceOf(Graph.class);
        Tensor x = f.input(), spec = BoundOracles.spec(m, x);
        double eps = 0.01;
        Interval crown = BoundedNetwork.of(m).crown(InputRegion.ball(x, eps, Norm.LINF), spec);
        try (Autograd.Guard ng = Autograd.noGrad()) {
            for (int i = 0; i < 100; i++) {
                Tensor xi = x.add(Tensor.rand(x.shape()).mul(2).sub(1).sign().mul(eps));
                Tensor mi = spec.matmul(m.forward(xi).unsqueeze(2)).squeeze(2);
                assertThat(mi.sub(crown.lo()).min().item()).isGreaterThanOrEqualTo(-1e-5);
            }
        }
        // the sound Lipschitz bound holds for the input gradient PyTorch computed: Σₙ ‖Jₙᵀvₙ‖² ≤ L² Σₙ ‖vₙ‖²
        double gradNorm = 0, vNorm = 0;
        for (float g : f.inputGrad()) gradNorm += g * g;
        for (float w : f.v().toFloatArray()) vNorm += w * w;
        assertThat(Math.sqrt(gradNorm)).isLessThanOrEqualTo(NetworkBound.of(m, new long[]{1, 8, 8}, 0).total() * Math.sqrt(vNorm));
    }

    /**
     * x.view(-1, K) as the PyTorch tutorial writes it (a Reshape to the constant [-1, K]) is a flatten when each example
     * has K entries: the import is a chain of Tikhon's layers, so the sound Lipschitz bound and CROWN apply.
     */
    @Test
    void aViewToMinusOneAndTheFeatureCountIsAFlatten() throws Exception {
        OnnxImportTest.Fixture f = OnnxImportTest.Fixture.of("lenet_chain");
        Module m = OnnxImport.load(OnnxImportTest.DIR.resolve("lenet_chain.onnx")).model();
        assertThat(m).isInstanceOf(dev.tikhon.nn.Sequential.class);
        assertThat(((dev.tikhon.nn.Sequential) m).layers()).noneMatch(l -> l instanceof OnnxLayers.Reshape)
                .anyMatch(l -> l instanceof dev.tikhon.nn.Pool p && p.kind() == dev.tikhon.nn.Pool.Kind.FLATTEN);
        double gradNorm = 0, vNorm = 0;
        for (float g : f.inputGrad()) gradNorm += g * g;
        for (float w : f.v().toFloatArray()) vNorm += w * w;
        assertThat(Math.sqrt(gradNorm)).isLessThanOrEqualTo(NetworkBound.of(m, new long[]{1, 8, 8}, 0).total() * Math.sqrt(vNorm));
        Tensor x = f.input(), spec = BoundOracles.spec(m, x);
        Interval crown = BoundedNetwork.of(m).crown(InputRegion.ball(x, 0.01, Norm.LINF), spec);
        try (Autograd.Guard ng = Autograd.noGrad()) {
            Tensor margins = spec.matmul(m.forward(x).unsqueeze(2)).squeeze(2);
            assertThat(margins.sub(crown.lo()).min().item()).isGreaterThanOrEqualTo(-1e-5);
        }
    }

    /** A graph a PyTorch user might write: arithmetic with constants, a skip connection, and two paths that cross. */
    static Graph crossing() {
        Rng.seed(7);
        var c = List.of(
                Graph.Node.apply(new OnnxLayers.ConstantOp(OnnxLayers.ConstantOp.Kind.SUB, Tensor.fromFloats(new float[]{0.4f, 0.6f}, 1, 2, 1, 1), false), 0), // 1: x − mean
                Graph.Node.apply(new OnnxLayers.ConstantOp(OnnxLayers.ConstantOp.Kind.DIV, Tensor.fromFloats(new float[]{0.25f}), false), 1),                  // 2: / 0.25
                Graph.Node.apply(new Conv2d(2, 4, 3, 1, 1, true), 2),                                                                                            // 3
                Graph.Node.apply(Activation.relu(), 3),                                                                                                          // 4
                Graph.Node.apply(new Conv2d(4, 4, 3, 1, 1, true), 4),                                                                                            // 5
                new Graph.Node(Graph.Op.ADD, null, new int[]{5, 4}, 0),                                                                                          // 6: skip
                Graph.Node.apply(new OnnxLayers.ConstantOp(OnnxLayers.ConstantOp.Kind.MUL, Tensor.fromFloats(new float[]{0.5f}), false), 5),                    // 7: reads 5, inside 6's branch
                new Graph.Node(Graph.Op.ADD, null, new int[]{6, 7}, 0),                                                                                          // 8: crosses 6's branch
                Graph.Node.apply(new OnnxLayers.ConstantOp(OnnxLayers.ConstantOp.Kind.SUB, Tensor.fromFloats(new float[]{0.1f}), true), 8),                    // 9: 0.1 − x
                Graph.Node.apply(Activation.relu(), 9),                                                                                                          // 10
                Graph.Node.apply(Pool.globalAvg(), 10),                                                                                                          // 11
                Graph.Node.apply(Pool.flatten(), 11),                                                                                                            // 12
                Graph.Node.apply(new Linear(4, 3), 12));                                                                                                         // 13
        Graph g = new Graph(c, 13);
        g.train(false);
        return g;
    }

    @Test
    void theChainOfAGraphComputesItsFunction() {
        Graph g = crossing();
        Tensor x = Tensor.rand(5, 2, 6, 6);
        try (Autograd.Guard ng = Autograd.noGrad()) {
            assertThat(evaluate(g.asChain(), x).toFloatArray()).containsExactly(g.forward(x).toFloatArray());
        }
        // sub, div, conv, relu, the outer sum (forking at value 4), sub, relu, pool, flatten, linear
        List<Graph.Part> chain = g.asChain();
        assertThat(chain).hasSize(10);
        Graph.Sum outer = (Graph.Sum) chain.get(4);
        assertThat(outer.left()).singleElement().isInstanceOf(Graph.Sum.class);          // the skip: conv + identity
        assertThat(outer.right()).hasSize(2);                                             // the shared conv, written again, then · 0.5
    }

    @Test
    void boundsOfAGraphContainItsOutputsAndAreExactAtZero() {
        Graph g = crossing();
        Tensor x = Tensor.rand(4, 2, 6, 6);
        Tensor spec = BoundOracles.spec(g, x);
        Tensor margins;
        try (Autograd.Guard ng = Autograd.noGrad()) {
            margins = spec.matmul(g.forward(x).unsqueeze(2)).squeeze(2);
        }
        Interval exact = BoundedNetwork.of(g).crown(InputRegion.ball(x, 0, Norm.LINF), spec);
        assertThat(exact.lo().sub(margins).abs().max().item()).isLessThan(1e-5);
        assertThat(exact.hi().sub(margins).abs().max().item()).isLessThan(1e-5);

        double eps = 0.02;
        Interval ibp = BoundedNetwork.of(g).ibp(InputRegion.ball(x, eps, Norm.LINF), spec);
        Interval crown = BoundedNetwork.of(g).crown(InputRegion.ball(x, eps, Norm.LINF), spec);
        BoundOracles.assertContainsSamples(g, spec, x, Norm.LINF, eps, 200, 1e-5, ibp, crown);   // corners of the box, and points inside
        // and the Lipschitz bound holds for the gradient of each output
        double bound = NetworkBound.of(g, new long[]{2, 6, 6}, 0).total();
        Tensor xg = x.requiresGrad(true);
        Tensor out = g.forward(xg);
        for (int k = 0; k < 3; k++) {
            Tensor grad = Autograd.grad(out.select(1, k).sum(), xg, false);
            assertThat(grad.flatten(1, -1).norm(2, new long[]{1}, false).max().item()).isLessThanOrEqualTo(bound);
        }
    }

    @Test
    void aGraphThatCombinesComputedValuesOtherThanByAdditionMultiplicationOrConcatenationIsRefusedNamingTheNode() {
        var nodes = List.of(Graph.Node.apply(Activation.relu(), 0), Graph.Node.apply(new Activation(Activation.Kind.SIGMOID), 0),
                new Graph.Node(Graph.Op.SUB, null, new int[]{1, 2}, 0), Graph.Node.apply(Pool.flatten(), 3));
        Graph g = new Graph(nodes, 4);
        assertThatThrownBy(() -> BoundedNetwork.of(g)).isInstanceOf(UserError.class).hasMessageContaining("node 2 (sub of values [1, 2])");
        assertThatThrownBy(() -> NetworkBound.of(g, new long[]{4}, 0)).isInstanceOf(UserError.class).hasMessageContaining("node 2 (sub");
        // a product of two computed values is bounded by propagation; it has no global Lipschitz constant
        var multiplied = List.of(Graph.Node.apply(Activation.relu(), 0), Graph.Node.apply(new Activation(Activation.Kind.SIGMOID), 0),
                new Graph.Node(Graph.Op.MUL, null, new int[]{1, 2}, 0), Graph.Node.apply(Pool.flatten(), 3));
        Graph product = new Graph(multiplied, 4);
        assertThat(BoundedNetwork.of(product)).isNotNull();
        assertThatThrownBy(() -> NetworkBound.of(product, new long[]{4}, 0)).isInstanceOf(UserError.class).hasMessageContaining("product of two computed values");
        // x·g(x) is one layer (a gate); one that is not a known activation (x·relu(x)) is a product for the verifier, and the
        // Lipschitz rules refuse it naming it
        Graph gated = new Graph(List.of(Graph.Node.apply(Activation.relu(), 0), new Graph.Node(Graph.Op.MUL, null, new int[]{1, 0}, 0),
                Graph.Node.apply(Pool.flatten(), 2)), 3);
        assertThat(BoundedNetwork.of(gated)).isNotNull();
        assertThatThrownBy(() -> NetworkBound.of(gated, new long[]{4}, 0)).isInstanceOf(UserError.class).hasMessageContaining("x·(relu)(x)");
    }

    /**
     * Three chains from one value concatenated along the channels (axis −3): the identity, conv → relu (which itself holds
     * a skip connection), conv → sigmoid; then conv, relu, global pooling, linear. In float64.
     */
    static Graph branches() {
        Rng.seed(21);
        List<Graph.Node> c = List.of(
                Graph.Node.apply(new Conv2d(1, 2, 3, 1, 1, true), 0),                     // 1: the fork's value
                Graph.Node.apply(Activation.relu(), 1),                                    // 2
                Graph.Node.apply(new Conv2d(2, 3, 3, 1, 1, true), 2),                     // 3: chain b
                Graph.Node.apply(Activation.relu(), 3),                                    // 4
                Graph.Node.apply(new Conv2d(3, 3, 3, 1, 1, true), 4),                     // 5
                new Graph.Node(Graph.Op.ADD, null, new int[]{5, 4}, 0),                    // 6: a skip inside chain b
                Graph.Node.apply(new Conv2d(2, 1, 1, 1, 0, true), 2),                     // 7: chain c
                Graph.Node.apply(new Activation(Activation.Kind.SIGMOID), 7),              // 8
                new Graph.Node(Graph.Op.CONCAT, null, new int[]{2, 6, 8}, -3),             // 9: [a (2 ch); b (3 ch); c (1 ch)]
                Graph.Node.apply(new Conv2d(6, 4, 3, 1, 1, true), 9),                     // 10
                Graph.Node.apply(Activation.relu(), 10),                                   // 11
                Graph.Node.apply(Pool.globalAvg(), 11),                                    // 12
                Graph.Node.apply(Pool.flatten(), 12),                                      // 13
                Graph.Node.apply(new Linear(4, 3), 13));                                   // 14
        Graph g = (Graph) new Graph(c, 14).to(DType.FLOAT64);
        g.train(false);
        return g;
    }

    @Test
    void theChainOfAGraphWithAConcatenationComputesItsFunction() {
        Graph g = branches();
        Tensor x = Tensor.rand(DType.FLOAT64, Device.CPU, 3, 1, 6, 6);
        List<Graph.Part> chain = g.asChain();
        Graph.Concat joined = (Graph.Concat) chain.get(2);   // conv, relu, then the concatenation of three chains
        assertThat(joined.chains()).hasSize(3);
        assertThat(joined.chains().get(0)).isEmpty();                                      // the fork's value itself
        assertThat(joined.chains().get(1).get(2)).isInstanceOf(Graph.Sum.class);
        try (Autograd.Guard ng = Autograd.noGrad()) {
            assertThat(evaluate(chain, x).toDoubleArray()).containsExactly(g.forward(x).toDoubleArray());
        }
    }

    /**
     * Concatenations of computed values (the hand-made graph; PyTorch's residual fixture, torch.cat of a skip connection's
     * sum and a scaled branch; its LeNet, torch.cat of a dense branch and a pooled one): at ε = 0 IBP and CROWN bound the
     * margins exactly (a chain given another's coefficients would not); at ε &gt; 0, in ℓ∞ and ℓ2, IBP, CROWN and α-CROWN
     * contain the margins at sampled points and α-CROWN is never below CROWN; the Lipschitz bound lies above the gradients.
     */
    @ParameterizedTest
    @ValueSource(strings = {"branches", "residual", "lenet"})
    void concatenationsOfComputedValuesAreBounded(String name) throws Exception {
        Module m = name.equals("branches") ? branches() : OnnxImport.load(OnnxImportTest.DIR.resolve(name + ".onnx")).model().to(DType.FLOAT64);
        long[] in = name.equals("branches") ? new long[]{1, 6, 6} : new long[]{1, 8, 8};
        Rng.seed(3);
        Tensor x = Tensor.rand(DType.FLOAT64, Device.CPU, 4, in[0], in[1], in[2]);
        Tensor spec = BoundOracles.spec(m, x);
        Tensor margins;
        try (Autograd.Guard ng = Autograd.noGrad()) {
            margins = spec.matmul(m.forward(x).unsqueeze(2)).squeeze(2);
        }
        BoundedNetwork net = BoundedNetwork.of(m);
        for (Interval exact : List.of(net.ibp(InputRegion.ball(x, 0, Norm.LINF), spec), net.crown(InputRegion.ball(x, 0, Norm.LINF), spec))) {
            assertThat(exact.lo().sub(margins).abs().max().item()).as(name + " at ε = 0").isLessThan(1e-9);
            assertThat(exact.hi().sub(margins).abs().max().item()).as(name + " at ε = 0").isLessThan(1e-9);
        }
        for (Norm norm : Norm.values()) {
            double eps = norm == Norm.LINF ? 0.03 : 0.2;
            InputRegion region = InputRegion.images(x, eps, norm);
            Interval ibp = net.ibp(region, spec), crown = net.crown(region, spec);
            Tensor alpha = net.alphaCrownLower(region, spec, BoundedNetwork.DEFAULT_CROWN_UNITS, 5, 0.1);
            assertThat(alpha.sub(crown.lo()).min().item()).as(name + " " + norm + ": α-CROWN never below CROWN").isGreaterThan(-1e-9);
            assertThat(crown.lo().sub(ibp.lo()).max().item()).as(name + " " + norm + ": not vacuous, CROWN tighter somewhere").isPositive();
            BoundOracles.assertContainsSamples(m, spec, x, norm, eps, 200, 1e-9, ibp, crown, new Interval(alpha, crown.hi()));
        }
        double bound = NetworkBound.of(m, in, 0).total();
        Tensor xg = x.requiresGrad(true);
        Tensor out = m.forward(xg);
        for (int k = 0; k < out.size(1); k++) {
            Tensor grad = Autograd.grad(out.select(1, k).sum(), xg, false);
            assertThat(grad.flatten(1, -1).norm(2, new long[]{1}, false).max().item()).as(name + " Lipschitz").isLessThanOrEqualTo(bound);
        }
    }

    /** The rounding of the chains' coefficients summed at a concatenation is accounted for: in float64 it costs nothing measurable. */
    @Test
    void aConcatenationAccountsForRounding() {
        Graph g = branches();
        Tensor x = Tensor.rand(DType.FLOAT64, Device.CPU, 3, 1, 6, 6);
        Tensor spec = BoundOracles.spec(g, x);
        InputRegion region = InputRegion.images(x, 0.02, Norm.LINF);
        for (boolean crown : new boolean[]{false, true}) {
            Interval plain = crown ? BoundedNetwork.of(g).crown(region, spec) : BoundedNetwork.of(g).ibp(region, spec);
            Interval accounted = Rounding.accounted(() -> crown ? BoundedNetwork.of(g).crown(region, spec) : BoundedNetwork.of(g).ibp(region, spec));
            Tensor scale = plain.lo().abs().add(plain.hi().abs()).add(1);
            assertThat(plain.lo().sub(accounted.lo()).min().item()).as("accounted never tighter").isGreaterThanOrEqualTo(0);
            assertThat(plain.lo().sub(accounted.lo()).div(scale).max().item()).as("and at most a billionth looser").isLessThan(1e-9);
            assertThat(accounted.hi().sub(plain.hi()).min().item()).isGreaterThanOrEqualTo(0);
        }
    }

    private static Tensor evaluate(List<Graph.Part> parts, Tensor x) {
        for (Graph.Part p : parts) {
            if (p instanceof Graph.Layer l) {
                x = l.module().forward(x);
            } else if (p instanceof Graph.Sum s) {
                x = evaluate(s.left(), x).add(evaluate(s.right(), x));
            } else {
                Graph.Concat c = (Graph.Concat) p;
                List<Tensor> parts2 = new java.util.ArrayList<>();
                for (List<Graph.Part> chain : c.chains()) parts2.add(evaluate(chain, x));
                x = Tensor.cat(parts2, c.axis() < 0 ? c.axis() + x.dim() : c.axis());
            }
        }
        return x;
    }

    private static void assertSame(Interval a, Interval b, String what) {
        double scale = Math.max(1, b.lo().abs().max().item());
        assertThat(a.lo().sub(b.lo()).abs().max().item()).as(what + " lower").isLessThan(1e-5 * scale);
        assertThat(a.hi().sub(b.hi()).abs().max().item()).as(what + " upper").isLessThan(1e-5 * scale);
    }
}
