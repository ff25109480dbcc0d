package dev.tikhon.verify;

import dev.tikhon.attack.Norm;
import dev.tikhon.data.Dataset;
import dev.tikhon.data.ToyData;
import dev.tikhon.engine.Autograd;
import dev.tikhon.engine.Rng;
import dev.tikhon.engine.Tensor;
import dev.tikhon.nn.Activation;
import dev.tikhon.nn.Linear;
import dev.tikhon.nn.Module;
import dev.tikhon.nn.Sequential;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * CROWN through Tikhon's own tanh and sigmoid ({@link Pointwise#tanh}, {@link Pointwise#sigmoid}): an MLP on moons with tanh
 * and sigmoid layers (weights scaled so that units saturate and straddle 0) has CROWN bounds equal to its margins at ε = 0
 * and containing them at sampled points of ℓ∞ and ℓ2 balls (also CROWN-IBP's and α-CROWN's), on average at least IBP's.
 */
class TanhSigmoidCrownTest {
    /** tanh, sigmoid, tanh between linear layers of 16, weights ×2.5 so that units saturate and straddle 0 (evaluation mode). */
    static Module saturatingMlp() {
        Rng.seed(31);
        Module m = new Sequential(new Linear(2, 16), new Activation(Activation.Kind.TANH), new Linear(16, 16),
                new Activation(Activation.Kind.SIGMOID), new Linear(16, 16), new Activation(Activation.Kind.TANH), new Linear(16, 2));
        try (Autograd.Guard g = Autograd.noGrad()) {
            for (var p : m.parameters()) p.value().mul_(2.5);
        }
        m.train(false);
        return m;
    }

    @Test
    void crownBoundsOfATanhMlpContainTheMarginsAndAreExactAtZero() {
        Module m = saturatingMlp();
        Dataset moons = ToyData.generate("moons", 64, 3);
        Tensor x = moons.inputs();
        BoundedNetwork net = BoundedNetwork.of(m);
        Tensor spec = BoundedNetwork.margins(moons.labels(), 2, x);
        Tensor margins;
        try (Autograd.Guard g = Autograd.noGrad()) {
            margins = spec.matmul(m.forward(x).unsqueeze(2)).squeeze(2);
        }
        for (Norm norm : List.of(Norm.LINF, Norm.L2)) {
            Interval exact = net.crown(InputRegion.ball(x, 0, norm), spec);
            assertThat(exact.lo().sub(margins).abs().max().item()).as("lower at ε = 0, %s", norm).isLessThan(1e-4);
            assertThat(exact.hi().sub(margins).abs().max().item()).as("upper at ε = 0, %s", norm).isLessThan(1e-4);
            for (double eps : new double[]{0.01, 0.1, 0.5}) {
                InputRegion region = InputRegion.ball(x, eps, norm);
                Interval ibp = net.ibp(region, spec), crown = net.crown(region, spec);
                Tensor crownIbp = net.crownLower(region, spec, 0, LowerSlope.ADAPTIVE);
                Tensor alpha = net.alphaCrownLower(region, spec, BoundedNetwork.DEFAULT_CROWN_UNITS, 5, 0.1);
                try (Autograd.Guard g = Autograd.noGrad()) {
                    for (int i = 0; i < 300; i++) {
                        Tensor mi = spec.matmul(m.forward(x.add(BoundOracles.perturbation(x, norm, eps, i))).unsqueeze(2)).squeeze(2);
                        for (Interval b : List.of(ibp, crown)) {
                            assertThat(mi.sub(b.lo()).min().item()).as("lower, %s ε %s sample %d", norm, eps, i).isGreaterThanOrEqualTo(-1e-5);
                            assertThat(b.hi().sub(mi).min().item()).as("upper, %s ε %s sample %d", norm, eps, i).isGreaterThanOrEqualTo(-1e-5);
                        }
                        assertThat(mi.sub(crownIbp).min().item()).as("CROWN-IBP, %s ε %s", norm, eps).isGreaterThanOrEqualTo(-1e-5);
                        assertThat(mi.sub(alpha).min().item()).as("α-CROWN, %s ε %s", norm, eps).isGreaterThanOrEqualTo(-1e-5);
                    }
                }
                assertThat(crown.lo().mean().item()).as("CROWN at least IBP on average, %s ε %s", norm, eps)
                        .isGreaterThanOrEqualTo(ibp.lo().mean().item());
            }
        }
    }
}
