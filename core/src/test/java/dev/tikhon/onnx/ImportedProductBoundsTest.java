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
import dev.tikhon.verify.BoundOracles;
import dev.tikhon.verify.BoundedNetwork;
import dev.tikhon.verify.BranchAndBound;
import dev.tikhon.verify.InputRegion;
import dev.tikhon.verify.Interval;
import dev.tikhon.verify.Rounding;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * Products of two computed values (a gated linear unit written by hand and as nn.GLU, which PyTorch writes as Split, Sigmoid,
 * Mul; a squeeze-and-excitation gate broadcast over the pixels), as PyTorch exports them (make_products.py): the import reproduces PyTorch's logits, bound propagation contains the margins
 * at sampled points of ℓ∞ and ℓ2 balls and is exact at ε = 0, and what cannot hold is refused in one line.
 */
class ImportedProductBoundsTest {

    static Module load(String name) throws Exception {
        return OnnxImport.load(OnnxImportTest.DIR.resolve(name + ".onnx")).model();
    }

    static Module gated() throws Exception { return load("gated"); }

    @ParameterizedTest
    @ValueSource(strings = {"gated", "glu"})
    void theImportComputesPyTorchsFunction(String name) throws Exception {
        OnnxImportTest.Fixture f = OnnxImportTest.Fixture.of(name);
        Module m = load(name);
        assertThat(m).isInstanceOf(Graph.class);
        try (Autograd.Guard g = Autograd.noGrad()) {
            float[] out = m.forward(f.input()).toFloatArray();
            for (int i = 0; i < out.length; i++) assertThat((double) out[i]).isCloseTo(f.logits()[i], org.assertj.core.api.Assertions.within(1e-5));
        }
        Tensor x = f.input().requiresGrad(true);
        Tensor grad = Autograd.grad(m.forward(x).mul(f.v()).sum(), x, false);
        float[] g = grad.toFloatArray();
        for (int i = 0; i < g.length; i++) assertThat((double) g[i]).isCloseTo(f.inputGrad()[i], org.assertj.core.api.Assertions.within(1e-5));
    }

    /**
     * In float64: IBP and CROWN equal the margins at ε = 0; at ε &gt; 0, in ℓ∞ and ℓ2, IBP, CROWN, α-CROWN and branch and
     * bound contain the margins at sampled points (corners of the box among them), α-CROWN is never below CROWN and CROWN is
     * tighter than IBP somewhere.
     */
    @ParameterizedTest
    @ValueSource(strings = {"gated", "glu"})
    void productsAreBoundedSoundly(String name) throws Exception {
        Module m = load(name).to(DType.FLOAT64);
        Rng.seed(3);
        Tensor x = Tensor.rand(DType.FLOAT64, Device.CPU, 4, 1, 6, 6);
        Tensor spec = BoundOracles.spec(m, x);
        BoundedNetwork net = BoundedNetwork.of(m);
        BoundOracles.assertExactAtZero(net, m, spec, x, 1e-9);
        Tensor others;   // each rival class, for branch and bound
        try (Autograd.Guard g = Autograd.noGrad()) {
            others = BoundedNetwork.marginsOverOthers(m.forward(x).argmax(1), 3, x);
        }
        for (Norm norm : Norm.values()) {
            double eps = norm == Norm.LINF ? 0.05 : 0.3;
            BoundOracles.assertSoundAndTighterThanIbp(m, spec, x, norm, eps, 5, 300);
            InputRegion region = InputRegion.images(x, eps, norm);
            Tensor bab;
            try (Autograd.Guard g = Autograd.noGrad()) {
                bab = BranchAndBound.worstLower(net, region, others, BoundedNetwork.DEFAULT_CROWN_UNITS, BranchAndBound.Settings.DEFAULT.withDomains(8));
            }
            for (int i = 0; i < 100; i++) {
                Tensor worst = BoundOracles.margins(m, others, x.add(BoundOracles.perturbation(x, norm, eps, i))).minWithIndex(1)[0];
                assertThat(worst.sub(bab).min().item()).as(norm + ": branch and bound, sample " + i).isGreaterThanOrEqualTo(-1e-9);
            }
        }
    }

    /**
     * α-CROWN's variables for the product's lines: on (W₁x + b₁)∘(W₂x + b₂) then a linear layer (no activation, so no other
     * variable), α-CROWN rises above CROWN (the averaged planes) and stays below sampled margins.
     */
    @Test
    void alphaCrownOptimizesTheProductsLines() {
        Rng.seed(9);
        Graph g = (Graph) new Graph(java.util.List.of(
                Graph.Node.apply(new dev.tikhon.nn.Linear(4, 6), 0),
                Graph.Node.apply(new dev.tikhon.nn.Linear(4, 6), 0),
                new Graph.Node(Graph.Op.MUL, null, new int[]{1, 2}, 0),
                Graph.Node.apply(new dev.tikhon.nn.Linear(6, 3), 3)), 4).to(DType.FLOAT64);
        g.train(false);
        Tensor x = Tensor.rand(DType.FLOAT64, Device.CPU, 8, 4);
        Tensor spec = BoundOracles.spec(g, x);
        BoundedNetwork net = BoundedNetwork.of(g);
        InputRegion region = InputRegion.ball(x, 0.3, Norm.LINF);
        Interval crown = net.crown(region, spec);
        Tensor alpha = net.alphaCrownLower(region, spec, BoundedNetwork.DEFAULT_CROWN_UNITS, 20, 0.1);
        assertThat(alpha.sub(crown.lo()).min().item()).as("never below CROWN").isGreaterThan(-1e-9);
        assertThat(alpha.sub(crown.lo()).max().item()).as("above CROWN somewhere: the lines moved").isGreaterThan(1e-3);
        BoundOracles.assertContainsSamples(g, spec, x, Norm.LINF, 0.3, 300, 1e-9, new Interval(alpha, crown.hi()));
    }

    /** No global Lipschitz constant for x·y: refused in one line naming the way out. */
    @Test
    void theLipschitzBoundIsRefused() throws Exception {
        Module m = gated().to(DType.FLOAT64);
        assertThatThrownBy(() -> NetworkBound.of(m, new long[]{1, 6, 6}, 0)).isInstanceOf(UserError.class)
                .hasMessageContaining("product of two computed values").hasMessageContaining("crown");
    }

    /**
     * Rounding accounted through products ({@link Rounding#accounted}): in float64 the accounted IBP and CROWN bounds are
     * never tighter than the plain ones and move them by less than 10⁻⁹ of their size, and they contain sampled margins;
     * in float32 the accounted IBP box holds float64's of the same weights and inputs.
     */
    @ParameterizedTest
    @ValueSource(strings = {"gated", "glu"})
    void roundingIsAccountedThroughProducts(String name) throws Exception {
        Module m = load(name).to(DType.FLOAT64);
        Rng.seed(5);
        Tensor x = Tensor.rand(DType.FLOAT64, Device.CPU, 3, 1, 6, 6).to(DType.FLOAT32).to(DType.FLOAT64);   // float32 values, exactly
        Tensor spec = BoundOracles.spec(m, x);
        InputRegion region = InputRegion.images(x, 0.03, Norm.LINF);
        BoundedNetwork net = BoundedNetwork.of(m);
        Interval ibp = net.ibp(region, spec), crown = net.crown(region, spec);
        Interval[] accounted = Rounding.accounted(() -> new Interval[]{net.ibp(region, spec), net.crown(region, spec)});
        Interval[] plain = {ibp, crown};
        for (int k = 0; k < 2; k++) {
            double scale = plain[k].hi().sub(plain[k].lo()).abs().max().item() + 1;
            assertThat(plain[k].lo().sub(accounted[k].lo()).min().item()).as("%s: never tighter (lower)", k).isGreaterThanOrEqualTo(0);
            assertThat(accounted[k].hi().sub(plain[k].hi()).min().item()).as("%s: never tighter (upper)", k).isGreaterThanOrEqualTo(0);
            assertThat(plain[k].lo().sub(accounted[k].lo()).max().item()).as("%s: the terms are small in float64", k).isLessThan(1e-9 * scale);
        }
        BoundOracles.assertContainsSamples(m, spec, x, Norm.LINF, 0.03, 100, 0, accounted);
        Tensor alpha = Rounding.accounted(() -> net.alphaCrownLower(region, spec, BoundedNetwork.DEFAULT_CROWN_UNITS, 5, 0.1));   // the mixed lines too
        BoundOracles.assertContainsSamples(m, spec, x, Norm.LINF, 0.03, 100, 0, new Interval(alpha, crown.hi()));
        Module f32 = load(name);
        BoundedNetwork net32 = BoundedNetwork.of(f32);
        InputRegion region32 = InputRegion.images(x.to(DType.FLOAT32), 0.03, Norm.LINF);
        Tensor spec32 = spec.to(DType.FLOAT32);
        Interval ibp32 = Rounding.accounted(() -> net32.ibp(region32, spec32));   // interval arithmetic is monotone in the box: a sound float32 box holds the float64 one
        assertThat(ibp.lo().sub(ibp32.lo().to(DType.FLOAT64)).min().item()).as("float32 IBP below float64's").isGreaterThanOrEqualTo(0);
        assertThat(ibp32.hi().to(DType.FLOAT64).sub(ibp.hi()).min().item()).as("float32 IBP above float64's").isGreaterThanOrEqualTo(0);
    }
}
