package dev.tikhon.verify;

import dev.tikhon.attack.Norm;
import dev.tikhon.attack.Pgd;
import dev.tikhon.engine.Autograd;
import dev.tikhon.engine.DType;
import dev.tikhon.engine.Device;
import dev.tikhon.engine.OneThread;
import dev.tikhon.engine.Rng;
import dev.tikhon.engine.Scope;
import dev.tikhon.engine.Tensor;
import dev.tikhon.nn.Activation;
import dev.tikhon.nn.BatchNorm2d;
import dev.tikhon.nn.Conv2d;
import dev.tikhon.nn.Linear;
import dev.tikhon.nn.Module;
import dev.tikhon.nn.Pool;
import dev.tikhon.nn.Sequential;
import dev.tikhon.models.Models;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

/**
 * Oracles: closed-form bounds (|x₁ + x₂|, linear maps, where the exact range is known), and soundness by sampling —
 * every point drawn from the region, plus PGD's worst point, must land inside the bounds. float64 throughout.
 */
@ExtendWith(OneThread.class)
class BoundPropagationTest {
    static final DType F64 = DType.FLOAT64;

    static void set(Tensor target, double... values) {
        try (Autograd.Guard g = Autograd.noGrad()) {
            target.copy_(Tensor.fromDoubles(values, target.shape()));
        }
    }

    static Tensor row(double... v) { return Tensor.fromDoubles(v, 1, v.length); }

    /** The identity specification on K outputs for N examples: [N, K, K]. */
    static Tensor identitySpec(long n, int k) {
        return Tensor.eye(k, F64, Device.CPU).unsqueeze(0).expand(n, k, k);
    }

    @Test
    void absoluteValueOfSumIbpZeroToFourCrownZeroToTwo() {
        // f(x) = relu(x₁ + x₂) + relu(−x₁ − x₂) = |x₁ + x₂| on [−1, 1]²
        Linear l1 = new Linear(2, 2), l2 = new Linear(2, 1);
        Module f = new Sequential(l1, Activation.relu(), l2).to(F64);
        set(l1.weight().value(), 1, 1, -1, -1);
        set(l1.bias().value(), 0, 0);
        set(l2.weight().value(), 1, 1);
        set(l2.bias().value(), 0);
        InputRegion region = InputRegion.ball(row(0, 0), 1, Norm.LINF);
        BoundedNetwork net = BoundedNetwork.of(f);
        Interval ibp = net.ibp(region, identitySpec(1, 1));
        Interval crown = net.crown(region, identitySpec(1, 1));
        assertThat(ibp.lo().item()).isCloseTo(0, within(1e-12));
        assertThat(ibp.hi().item()).isCloseTo(4, within(1e-12));
        assertThat(crown.lo().item()).isCloseTo(0, within(1e-12));
        assertThat(crown.hi().item()).isCloseTo(2, within(1e-12));
    }

    @Test
    void oneLinearLayerIsExactForBoth() {
        Linear l = new Linear(2, 1);
        Module f = new Sequential(l).to(F64);
        set(l.weight().value(), 3, -4);
        set(l.bias().value(), 0);
        BoundedNetwork net = BoundedNetwork.of(f);
        Tensor spec = identitySpec(1, 1);
        // ℓ∞ ball of radius 0.1 around (1, 1): 3x₁ − 4x₂ ∈ −1 ± 0.1·(3 + 4)
        for (Interval b : List.of(net.ibp(InputRegion.ball(row(1, 1), 0.1, Norm.LINF), spec),
                net.crown(InputRegion.ball(row(1, 1), 0.1, Norm.LINF), spec))) {
            assertThat(b.lo().item()).isCloseTo(-1.7, within(1e-12));
            assertThat(b.hi().item()).isCloseTo(-0.3, within(1e-12));
        }
        // ℓ2 ball: −1 ± 0.1·‖(3, −4)‖₂ = −1 ± 0.5
        for (Interval b : List.of(net.ibp(InputRegion.ball(row(1, 1), 0.1, Norm.L2), spec),
                net.crown(InputRegion.ball(row(1, 1), 0.1, Norm.L2), spec))) {
            assertThat(b.lo().item()).isCloseTo(-1.5, within(1e-12));
            assertThat(b.hi().item()).isCloseTo(-0.5, within(1e-12));
        }
        // with the image box: x ∈ [0.9, 1]², so 3x₁ − 4x₂ ∈ [2.7 − 4, 3 − 3.6]
        for (Interval b : List.of(net.ibp(InputRegion.images(row(1, 1), 0.1, Norm.LINF), spec),
                net.crown(InputRegion.images(row(1, 1), 0.1, Norm.LINF), spec))) {
            assertThat(b.lo().item()).isCloseTo(-1.3, within(1e-12));
            assertThat(b.hi().item()).isCloseTo(-0.6, within(1e-12));
        }
    }

    /**
     * A network without nonlinearities (conv stride 2, batch norm, average pooling, flatten, linear): CROWN is exact,
     * f(x₀) ± ε‖∇f‖₁ per output over the ℓ∞ ball; IBP is sound and exact only up to |W₂||W₁| ≥ |W₂W₁|.
     */
    @Test
    void linearNetworkCrownIsExactIbpSound() {
        Rng.seed(3);
        Conv2d conv = new Conv2d(2, 3, 3, 2, 1, true);
        BatchNorm2d bn = new BatchNorm2d(3);
        Module f = new Sequential(conv, bn, Pool.avg(2), Pool.flatten(), new Linear(3 * 2 * 2, 4)).to(F64);
        Map<String, Tensor> state = f.stateDict();
        try (Autograd.Guard g = Autograd.noGrad()) {
            state.get("1.weight").copy_(Tensor.randn(F64, Device.CPU, 3));
            state.get("1.bias").copy_(Tensor.randn(F64, Device.CPU, 3));
            state.get("1.running_mean").copy_(Tensor.randn(F64, Device.CPU, 3));
            state.get("1.running_var").copy_(Tensor.rand(F64, Device.CPU, 3).add(0.5));
        }
        f.train(false);
        Tensor x = Tensor.rand(F64, Device.CPU, 3, 2, 9, 9);   // odd size: the strided transpose needs output padding
        double eps = 0.05;
        InputRegion region = InputRegion.ball(x, eps, Norm.LINF);
        BoundedNetwork net = BoundedNetwork.of(f);
        Interval crown = net.crown(region, identitySpec(3, 4));
        Interval ibp = net.ibp(region, identitySpec(3, 4));
        Tensor xg = x.copy().requiresGrad(true);
        Tensor z = f.forward(xg);
        for (int k = 0; k < 4; k++) {
            Tensor g = Autograd.grad(z.select(1, k).sum(), xg, false);
            Tensor radius = g.abs().flatten(1, -1).sum(1, false).mul(eps);
            Tensor centre = z.select(1, k).detach();
            assertThat(maxAbs(crown.lo().select(1, k).sub(centre.sub(radius)))).isLessThan(1e-10);
            assertThat(maxAbs(crown.hi().select(1, k).sub(centre.add(radius)))).isLessThan(1e-10);
            assertThat(ibp.lo().select(1, k).sub(centre.sub(radius)).max().item()).isLessThan(1e-10);
            assertThat(ibp.hi().select(1, k).sub(centre.add(radius)).min().item()).isGreaterThan(-1e-10);
        }
    }

    static double maxAbs(Tensor t) { return t.abs().max().item(); }

    static Module model(String arch, Map<String, Object> options, long seed) {
        Rng.seed(seed);
        Module m = Models.build(Models.spec(arch, List.of(1L, 8L, 8L), 5, options)).to(F64);
        if (arch.equals("resnet")) {   // evaluation-mode batch norm with running statistics that are not the identity
            Map<String, Tensor> state = m.stateDict();
            try (Autograd.Guard g = Autograd.noGrad()) {
                state.forEach((k, v) -> {
                    if (k.endsWith("running_mean")) v.copy_(Tensor.randn(F64, Device.CPU, v.shape()).mul(0.1));
                    if (k.endsWith("running_var")) v.copy_(Tensor.rand(F64, Device.CPU, v.shape()).add(0.5));
                    if (k.endsWith("weight") && v.dim() == 1) v.copy_(Tensor.rand(F64, Device.CPU, v.shape()).add(0.5));
                });
            }
        }
        return m.train(false);
    }

    static List<Module> zoo() {
        return List.of(
                model("mlp", Map.of("hidden", List.of(24, 16)), 1),
                model("mlp", Map.of("hidden", List.of(20), "activation", "smooth-relu"), 2),
                model("cnn", Map.of(), 3),
                model("resnet", Map.of("depth", 8, "width", 4), 4));
    }

    /** Thousands of points of the ball ∩ [0, 1], its clipped corners, and PGD's worst point fall inside every bound. */
    @Test
    void sampledPointsAndPgdWorstPointLieInsideTheBounds() {
        Rng.seed(11);
        List<Module> zoo = zoo();
        // α-CROWN: 5 Adam steps on the MLPs, 3 on the CNN and the residual network, where each step differentiates the
        // intermediate passes through thousands of float64 transposed convolutions (2 s a step on the CNN)
        for (int i = 0; i < zoo.size(); i++) assertSampledPointsInside(zoo.get(i), 4, 2000, i < 2 ? 5 : 3);
    }

    /**
     * For n random [1, 8, 8] inputs of the 5-class model f, in ℓ∞ and ℓ2: {@code samples} points of each ball ∩ [0, 1] and PGD's
     * worst point lie inside the IBP, CROWN and CROWN-IBP bounds of the margins, and above α-CROWN's lower bounds, which are
     * never below CROWN's ({@code alphaSteps} Adam steps: 5 leave CROWN's slopes well behind).
     */
    static void assertSampledPointsInside(Module f, int n, int samples) {
        assertSampledPointsInside(f, n, samples, 5);
    }

    static void assertSampledPointsInside(Module f, int n, int samples, int alphaSteps) {
        for (Norm norm : Norm.values()) {
            double eps = norm == Norm.LINF ? 0.03 : 0.3;
            try (Scope s = Scope.open()) {
                Tensor x = Tensor.rand(F64, Device.CPU, n, 1, 8, 8);
                Tensor y;
                try (Autograd.Guard g = Autograd.noGrad()) {
                    y = f.forward(x).argmax(1);
                }
                Tensor spec = BoundedNetwork.margins(y, 5, x);
                InputRegion region = InputRegion.images(x, eps, norm);
                BoundedNetwork net = BoundedNetwork.of(f);
                Interval ibp = net.ibp(region, spec);
                Interval crown = net.crown(region, spec);
                Interval crownIbp = net.crown(region, spec, 0, LowerSlope.ADAPTIVE);
                Tensor alpha = net.alphaCrownLower(region, spec, BoundedNetwork.DEFAULT_CROWN_UNITS, alphaSteps, 0.1);
                Tensor crownLower = crown.lo();   // crownLower's, with the same defaults
                assertThat(alpha.sub(crownLower).min().item()).as(f.describe() + " " + norm + ": α-CROWN never below CROWN").isGreaterThan(-1e-12);
                Tensor pgd = new Pgd(norm, eps, 20, 2.5 * eps / 20, true).attack(f, x, y).adversarial();
                for (int i = 0; i < n; i++) {
                    Tensor xi = x.narrow(0, i, 1);
                    Tensor points = Tensor.cat(List.of(sample(xi, eps, norm, samples), pgd.narrow(0, i, 1)), 0);
                    Tensor m;
                    try (Autograd.Guard g = Autograd.noGrad()) {
                        m = f.forward(points).matmul(spec.select(0, i).t());   // [samples, K] margins
                    }
                    for (Interval b : List.of(ibp, crown, crownIbp)) {
                        Tensor lo = b.lo().narrow(0, i, 1), hi = b.hi().narrow(0, i, 1);
                        assertThat(m.sub(lo).min().item()).as(f.describe() + " " + norm + " lower").isGreaterThan(-1e-9);
                        assertThat(m.sub(hi).max().item()).as(f.describe() + " " + norm + " upper").isLessThan(1e-9);
                    }
                    assertThat(m.sub(alpha.narrow(0, i, 1)).min().item()).as(f.describe() + " " + norm + " α-CROWN lower").isGreaterThan(-1e-9);
                }
            }
        }
    }

    /** Points of the ball around one example [1, …] intersected with [0, 1]; for ℓ∞ half of them at corners. */
    static Tensor sample(Tensor x, double eps, Norm norm, int count) {
        long[] shape = x.shape();
        shape[0] = count;
        Tensor d;
        if (norm == Norm.LINF) {
            Tensor u = Tensor.rand(F64, Device.CPU, shape).mul(2).sub(1);
            Tensor corners = u.sign();
            d = Tensor.cat(List.of(u.narrow(0, 0, count / 2), corners.narrow(0, count / 2, count - count / 2)), 0).mul(eps);
        } else {
            Tensor g = Tensor.randn(F64, Device.CPU, shape);
            Tensor dir = g.div(g.normPerExample(2).reshape(count, 1, 1, 1));
            Tensor r = Tensor.rand(F64, Device.CPU, count).pow(1.0 / x.numel()).mul(eps).reshape(count, 1, 1, 1);
            d = dir.mul(r);
        }
        return x.add(d).clamp(0, 1);   // clipping to the box only moves a point closer to x ∈ [0, 1]
    }

    /**
     * With exact intermediate bounds (one hidden layer) and the lower slope 0, every unit's CROWN lines lie inside
     * the interval [relu(l), relu(u)] IBP uses, and the joint minimum over the input can only be higher: CROWN's
     * bounds are never looser than IBP's. (With the adaptive slope that need not hold for each example.)
     */
    @Test
    void crownWithZeroSlopeNeverLooserThanIbpOnOneHiddenLayer() {
        Rng.seed(5);
        for (int trial = 0; trial < 5; trial++) {
            Module f = model("mlp", Map.of("hidden", List.of(32)), 100 + trial);
            Tensor x = Tensor.rand(F64, Device.CPU, 6, 1, 8, 8);
            Tensor spec = identitySpec(6, 5);
            for (Norm norm : Norm.values()) {
                InputRegion region = InputRegion.images(x, norm == Norm.LINF ? 0.05 : 0.5, norm);
                BoundedNetwork net = BoundedNetwork.of(f);
                Interval ibp = net.ibp(region, spec);
                Interval crown = net.crown(region, spec, BoundedNetwork.DEFAULT_CROWN_UNITS, LowerSlope.ZERO);
                assertThat(crown.lo().sub(ibp.lo()).min().item()).isGreaterThan(-1e-10);
                assertThat(crown.hi().sub(ibp.hi()).max().item()).isLessThan(1e-10);
            }
        }
    }

    /** The step back through an activation's lines equals its definition, A⁺·lower + A⁻·upper, for ReLU and a convex one. */
    @Test
    void theStepBackThroughALinearRelaxationIsItsDefinition() {
        Rng.seed(5);
        Tensor l = Tensor.randn(3, 4, 2).to(F64), u = l.add(Tensor.rand(3, 4, 2).to(F64).mul(2));
        Tensor a = Tensor.randn(3, 6, 4, 2).to(F64);
        for (Relaxation r : List.of(Relaxation.relu(l, u, LowerSlope.ADAPTIVE),
                Relaxation.of(Activation.Kind.SOFTPLUS, new Interval(l, u), LowerSlope.ADAPTIVE))) {
            Tensor pos = a.clampMin(0), neg = a.clampMax(0);
            Tensor coefficients = pos.mul(r.lowerSlope().unsqueeze(1)).add(neg.mul(r.upperSlope().unsqueeze(1)));
            Tensor constants = pos.mul(r.lowerIntercept().unsqueeze(1)).add(neg.mul(r.upperIntercept().unsqueeze(1)))
                    .flatten(2, -1).sum(2, false);
            assertThat(r.coefficients(a).sub(coefficients).abs().max().item()).isEqualTo(0.0);
            assertThat(r.constants(a).sub(constants).abs().max().item()).isLessThan(1e-12);
            assertThat(constants.abs().max().item()).isGreaterThan(0.1);
        }
    }
}
