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
            InputRegion region = InputRegion.images(x, eps, norm);
            Interval ibp = net.ibp(region, spec), crown = net.crown(region, spec);
            Tensor alpha = net.alphaCrownLower(region, spec, BoundedNetwork.DEFAULT_CROWN_UNITS, 5, 0.1);
            assertThat(alpha.sub(crown.lo()).min().item()).as(norm + ": α-CROWN never below CROWN").isGreaterThan(-1e-9);
            assertThat(crown.lo().sub(ibp.lo()).max().item()).as(norm + ": CROWN tighter than IBP somewhere").isPositive();
            BoundOracles.assertContainsSamples(m, spec, x, norm, eps, 300, 1e-9, ibp, crown, new Interval(alpha, crown.hi()));
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

    /** No global Lipschitz constant for x·y, and no rounding terms for it yet: both refused in one line naming the way out. */
    @Test
    void theLipschitzBoundAndAccountedRoundingAreRefused() throws Exception {
        Module m = gated().to(DType.FLOAT64);
        assertThatThrownBy(() -> NetworkBound.of(m, new long[]{1, 6, 6}, 0)).isInstanceOf(UserError.class)
                .hasMessageContaining("product of two computed values").hasMessageContaining("crown");
        Tensor x = Tensor.rand(DType.FLOAT64, Device.CPU, 2, 1, 6, 6);
        Tensor spec = BoundOracles.spec(m, x);
        assertThatThrownBy(() -> Rounding.accounted(() -> BoundedNetwork.of(m).ibp(InputRegion.ball(x, 0.01, Norm.LINF), spec)))
                .isInstanceOf(UserError.class).hasMessageContaining("without --account-rounding");
    }
}
