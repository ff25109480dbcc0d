package dev.tikhon.onnx;

import dev.tikhon.attack.Norm;
import dev.tikhon.engine.Autograd;
import dev.tikhon.engine.Rng;
import dev.tikhon.engine.Tensor;
import dev.tikhon.lipschitz.NetworkBound;
import dev.tikhon.nn.Activation;
import dev.tikhon.nn.Graph;
import dev.tikhon.nn.Linear;
import dev.tikhon.nn.Module;
import dev.tikhon.nn.Pool;
import dev.tikhon.nn.Sequential;
import dev.tikhon.verify.BoundedNetwork;
import dev.tikhon.verify.InputRegion;
import dev.tikhon.verify.Interval;
import dev.tikhon.verify.LowerSlope;
import dev.tikhon.verify.BoundOracles;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.util.List;
import java.util.function.Supplier;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Bounds of networks with the activations ONNX import brings (Clip, HardSigmoid, HardSwish, LeakyRelu, PRelu, Elu, SiLU,
 * GELU, tanh-GELU). Oracles: at ε = 0 IBP and CROWN give the margins; at sampled points of the region (corners and inside) the
 * margins lie within IBP's, CROWN's and α-CROWN's bounds; CROWN's lower bounds are on average at least IBP's; the sound
 * Lipschitz bound is at least the gradients' norms; PyTorch-exported fixtures get bounds that hold at sampled points.
 */
class ImportedActivationBoundsTest {

    private static Module activation(String name) {
        switch (name) {
            case "relu6": return new OnnxLayers.Clip(0, 6);
            case "hardtanh": return new OnnxLayers.Clip(-1, 1);
            case "hard-sigmoid": return new OnnxLayers.HardSigmoid(0.2, 0.5, false);
            case "hard-swish": return new OnnxLayers.HardSigmoid(1.0 / 6, 0.5, true);
            case "leaky-relu": return new OnnxLayers.LeakyRelu(0.1);
            case "prelu": return new OnnxLayers.PRelu(Tensor.rand(12).sub(0.3));   // some slopes negative
            case "elu": return new OnnxLayers.Elu(1);
            case "silu": return new Graph.Gate(List.of(new Activation(Activation.Kind.SIGMOID)));
            case "gelu": return new Graph.Gate(List.of(new OnnxLayers.ConstantOp(OnnxLayers.ConstantOp.Kind.DIV,
                    Tensor.fromFloats(new float[]{(float) Math.sqrt(2)}), false), new OnnxLayers.Erf(),
                    new OnnxLayers.ConstantOp(OnnxLayers.ConstantOp.Kind.ADD, Tensor.fromFloats(new float[]{1}), false)));
            case "tanh-gelu": return TanhGeluGraph.module();   // a graph of its own, ½·x·(1 + tanh(…)), as PyTorch writes it
            default: throw new AssertionError(name);
        }
    }

    /** ×3, flatten, linear, the activation, linear, ReLU (so that α-CROWN has slopes to optimize), linear, the activation, linear. */
    private static Module network(String name) {
        Rng.seed(21);
        Supplier<Module> act = () -> activation(name);
        Module m = new Sequential(new OnnxLayers.ConstantOp(OnnxLayers.ConstantOp.Kind.MUL, Tensor.fromFloats(new float[]{3}), false),
                Pool.flatten(), new Linear(6, 12), act.get(), new Linear(12, 12), Activation.relu(), new Linear(12, 12), act.get(), new Linear(12, 4));
        m.train(false);
        return m;
    }

    @ParameterizedTest
    @ValueSource(strings = {"relu6", "hardtanh", "hard-sigmoid", "hard-swish", "leaky-relu", "prelu", "elu", "silu", "gelu", "tanh-gelu"})
    void boundsContainTheMarginsAndAreExactAtZero(String name) {
        Module m = network(name);
        BoundedNetwork net = BoundedNetwork.of(m);
        Tensor x = Tensor.rand(8, 1, 2, 3).mul(2).sub(1);
        Tensor spec = BoundOracles.spec(m, x);
        BoundOracles.assertExactAtZero(net, m, spec, x, 1e-4);
        double eps = 0.15;
        InputRegion region = InputRegion.ball(x, eps, Norm.LINF);
        Interval ibp = net.ibp(region, spec), crown = net.crown(region, spec);
        Tensor alpha = net.alphaCrownLower(region, spec, BoundedNetwork.DEFAULT_CROWN_UNITS, 10, 0.1);
        Tensor crownIbp = net.crownLower(region, spec, 0, LowerSlope.ADAPTIVE);
        try (Autograd.Guard g = Autograd.noGrad()) {
            for (int i = 0; i < 300; i++) {
                Tensor mi = BoundOracles.margins(m, spec, x.add(BoundOracles.perturbation(x, Norm.LINF, eps, i)));
                for (Interval b : List.of(ibp, crown)) {
                    assertThat(mi.sub(b.lo()).min().item()).as("lower bound, sample %d", i).isGreaterThanOrEqualTo(-1e-5);
                    assertThat(b.hi().sub(mi).min().item()).as("upper bound, sample %d", i).isGreaterThanOrEqualTo(-1e-5);
                }
                assertThat(mi.sub(alpha).min().item()).as("α-CROWN, sample %d", i).isGreaterThanOrEqualTo(-1e-5);
                assertThat(mi.sub(crownIbp).min().item()).as("CROWN-IBP, sample %d", i).isGreaterThanOrEqualTo(-1e-5);
            }
        }
        assertThat(crown.lo().mean().item()).as("CROWN at least as tight as IBP on average").isGreaterThanOrEqualTo(ibp.lo().mean().item());
        assertThat(alpha.sub(crown.lo()).min().item()).as("α-CROWN at least CROWN").isGreaterThanOrEqualTo(-1e-5);
        // the sound Lipschitz bound is at least every output's gradient norm
        double bound = NetworkBound.of(m, new long[]{1, 2, 3}, 0).total();
        Tensor xg = x.requiresGrad(true);
        Tensor out = m.forward(xg);
        for (int k = 0; k < 4; k++) {
            Tensor grad = Autograd.grad(out.select(1, k).sum(), xg, false);
            assertThat(grad.flatten(1, -1).norm(2, new long[]{1}, false).max().item()).isLessThanOrEqualTo(bound);
        }
    }

    /** PyTorch's exports: PReLU, SiLU/GELU/Hardswish as graphs, ELU, GELU alone, tanh-GELU after a conv and a linear layer. */
    @ParameterizedTest
    @ValueSource(strings = {"prelu", "silu", "elu", "gelu", "mobile", "tanh_gelu"})
    void pyTorchExportsAreBounded(String name) throws Exception {
        Module m = OnnxImport.load(OnnxImportTest.DIR.resolve(name + ".onnx")).model();
        boolean answers = java.nio.file.Files.exists(OnnxImportTest.DIR.resolve(name + ".json"));
        Tensor x = answers ? OnnxImportTest.Fixture.of(name).input() : Tensor.rand(2, 1, 2, 2);
        Tensor spec = BoundOracles.spec(m, x);
        BoundedNetwork net = BoundedNetwork.of(m);
        Tensor margins = BoundOracles.margins(m, spec, x);
        Interval exact = net.crown(InputRegion.ball(x, 0, Norm.LINF), spec);
        assertThat(exact.lo().sub(margins).abs().max().item()).as("CROWN at ε = 0").isLessThan(1e-4);
        double eps = 0.02;
        InputRegion region = InputRegion.ball(x, eps, Norm.LINF);
        Interval ibp = net.ibp(region, spec), crown = net.crown(region, spec);
        BoundOracles.assertContainsSamples(m, spec, x, Norm.LINF, eps, 200, 1e-5, ibp, crown);
        if (answers) {   // the sound Lipschitz bound holds for the input gradient PyTorch computed: ‖Jᵀv‖ ≤ L‖v‖
            OnnxImportTest.Fixture f = OnnxImportTest.Fixture.of(name);
            double gradNorm = 0, vNorm = 0;
            for (float gr : f.inputGrad()) gradNorm += gr * gr;
            for (float w : f.v().toFloatArray()) vNorm += w * w;
            long[] shape = x.shape();
            long[] in = java.util.Arrays.copyOfRange(shape, 1, shape.length);
            assertThat(Math.sqrt(gradNorm)).isLessThanOrEqualTo(NetworkBound.of(m, in, 0).total() * Math.sqrt(vNorm));
        }
    }

    /**
     * Branch and bound splits ReLUs and cuts the other activations' inputs (at a kink for HardSwish and PRelu, at the
     * midpoint for SiLU and tanh-GELU): with them beside ReLUs, and with no ReLU at all, its bound holds at sampled points
     * and is at least CROWN's.
     */
    @ParameterizedTest
    @ValueSource(strings = {"hard-swish", "silu", "prelu", "tanh-gelu"})
    void branchAndBoundOnTheseActivationsStaysSound(String name) {
        Module m = network(name);
        Module noRelu = new Sequential(Pool.flatten(), new Linear(6, 12), activation(name), new Linear(12, 4));
        noRelu.train(false);
        Tensor x = Tensor.rand(6, 1, 2, 3);
        double eps = 0.1;
        for (Module net : List.of(m, noRelu)) {
            Tensor spec = others(net, x);
            InputRegion region = InputRegion.ball(x, eps, Norm.LINF);
            BoundedNetwork b = BoundedNetwork.of(net);
            // 128 domains and 5 root α and β steps per batch (20 and 20 by default): enough splits of each kind, and enough ascent,
            // for the oracle (CI time); a β of a cut or of a ReLU split with its sign flipped still fails it
            Tensor bab = dev.tikhon.verify.BranchAndBound.worstLower(b, region, spec, BoundedNetwork.DEFAULT_CROWN_UNITS,
                    dev.tikhon.verify.BranchAndBound.Settings.DEFAULT.withDomains(128).withRootAlphaSteps(5).withSteps(5));
            Tensor crown = b.crownLower(region, spec, BoundedNetwork.DEFAULT_CROWN_UNITS, LowerSlope.ADAPTIVE).minWithIndex(1)[0];
            assertThat(bab.sub(crown).min().item()).as("at least CROWN").isGreaterThanOrEqualTo(-1e-5);
            try (Autograd.Guard g = Autograd.noGrad()) {
                for (int i = 0; i < 200; i++) {
                    Tensor worst = BoundOracles.margins(net, spec, x.add(BoundOracles.perturbation(x, Norm.LINF, eps, i))).minWithIndex(1)[0];
                    assertThat(worst.sub(bab).min().item()).as("sample %d", i).isGreaterThanOrEqualTo(-1e-5);
                }
            }
        }
    }

    /** CROWN-IBP certified training through them (and a PReLU's slope) gives a finite loss and finite gradients. */
    @ParameterizedTest
    @ValueSource(strings = {"prelu", "silu", "gelu", "hard-swish", "elu", "tanh-gelu"})
    void certifiedTrainingDifferentiatesThroughThem(String name) {
        Module m = network(name);
        m.train(true);
        var objective = new dev.tikhon.verify.CertifiedTraining(dev.tikhon.verify.CertifiedTraining.Bound.CROWN_IBP, Norm.LINF, 0.1, 0, 1, 0.5);
        objective.progress(0.5);
        Tensor x = Tensor.rand(8, 1, 2, 3), y = Tensor.randint(4, dev.tikhon.engine.Device.CPU, 8);
        Tensor loss = objective.evaluate(m, x, y).loss();
        assertThat(Double.isFinite(loss.item())).isTrue();
        List<Tensor> params = m.parameters().stream().map(p -> p.value()).toList();
        List<Tensor> grads = Autograd.grad(List.of(loss), params, null, false, false);
        for (Tensor g : grads) assertThat(g.isFinite().logicalNot().sum().item()).as("finite gradient").isEqualTo(0.0);
        assertThat(grads.stream().mapToDouble(g -> g.abs().sum().item()).sum()).isGreaterThan(0);
    }

    /** The margins over the other classes of the predicted class, [N, 3, 4]. */
    private static Tensor others(Module m, Tensor x) {
        try (Autograd.Guard g = Autograd.noGrad()) {
            Tensor out = m.forward(x);
            return BoundedNetwork.marginsOverOthers(out.argmax(1), (int) out.size(1), out);
        }
    }

    /** How the exporter writes them, read back: Hardswish at operator set 13, SiLU and GELU are gates of one layer each. */
    @Test
    void theProductsPyTorchWritesAreReadAsOneLayer() throws Exception {
        Module m = OnnxImport.load(OnnxImportTest.DIR.resolve("silu.onnx")).model();
        List<Graph.Part> chain = ((Graph) m).asChain();
        assertThat(chain.stream().filter(p -> p instanceof Graph.Layer l && l.module() instanceof Graph.Gate)).hasSize(3);
        assertThat(chain).allMatch(p -> p instanceof Graph.Layer);
        // tanh-GELU's product x·(1 + tanh(c(x + a·x·x·x))): its gate a graph of x, both times
        List<Graph.Part> tanh = ((Graph) OnnxImport.load(OnnxImportTest.DIR.resolve("tanh_gelu.onnx")).model()).asChain();
        assertThat(tanh.stream().filter(p -> p instanceof Graph.Layer l && l.module() instanceof Graph.Gate g
                && g.gate().size() == 1 && g.gate().get(0) instanceof Graph)).hasSize(2);
        assertThat(tanh).allMatch(p -> p instanceof Graph.Layer);
    }

}
