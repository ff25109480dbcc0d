package dev.tikhon.verify;

import dev.tikhon.attack.Norm;
import dev.tikhon.engine.Autograd;
import dev.tikhon.engine.Tensor;
import dev.tikhon.nn.Module;

/**
 * What the bound tests check bounds against: each example's margins (its predicted class's logit minus each other's),
 * and perturbations of a batch inside its ℓ∞ or ℓ2 ball, at which the margins must lie within the bounds. The i-th sample
 * lies on the ball's boundary for even i (a corner of the ℓ∞ box, a point of each example's ℓ2 sphere) and inside it for
 * odd i (the corner scaled coordinate by coordinate, the sphere's point by one factor per example).
 */
public final class BoundOracles {
    private BoundOracles() {}

    /** The i-th perturbation δ of {@code x} [N, …] with ‖δₙ‖ ≤ ε in {@code norm}, for each example n. */
    public static Tensor perturbation(Tensor x, Norm norm, double eps, int i) {
        if (norm == Norm.LINF) {
            Tensor corner = Tensor.rand(x.shape()).mul(2).sub(1).sign().mul(eps);
            return i % 2 == 0 ? corner : corner.mul(Tensor.rand(x.shape()));
        }
        long[] perExample = new long[x.dim()];
        java.util.Arrays.fill(perExample, 1);
        perExample[0] = x.size(0);
        Tensor d = Tensor.randn(x.shape());
        d = d.div(d.flatten(1, -1).norm(2, new long[]{1}, false).reshape(perExample)).mul(eps);
        return i % 2 == 0 ? d : d.mul(Tensor.rand(perExample));
    }

    /** The margin specification of each example's class as {@code m} predicts it at {@code x}. */
    public static Tensor spec(Module m, Tensor x) {
        try (Autograd.Guard g = Autograd.noGrad()) {
            Tensor out = m.forward(x);
            return BoundedNetwork.margins(out.argmax(1), (int) out.size(1), out);
        }
    }

    /**
     * The sampled soundness check: at {@code samples} perturbations of {@code x} in its ε-ball ({@link #perturbation}), the
     * margins {@code spec} names lie within every one of {@code bounds}, to {@code tolerance}.
     */
    public static void assertContainsSamples(Module m, Tensor spec, Tensor x, Norm norm, double eps, int samples, double tolerance,
                                             Interval... bounds) {
        for (int i = 0; i < samples; i++) {
            Tensor mi = margins(m, spec, x.add(perturbation(x, norm, eps, i)));
            for (int k = 0; k < bounds.length; k++) {
                org.assertj.core.api.Assertions.assertThat(mi.sub(bounds[k].lo()).min().item())
                        .as("bound %d: lower, %s ε %s sample %d", k, norm, eps, i).isGreaterThanOrEqualTo(-tolerance);
                org.assertj.core.api.Assertions.assertThat(bounds[k].hi().sub(mi).min().item())
                        .as("bound %d: upper, %s ε %s sample %d", k, norm, eps, i).isGreaterThanOrEqualTo(-tolerance);
            }
        }
    }

    /**
     * IBP, CROWN and α-CROWN ({@code alphaSteps} steps) of {@code m} on the ball of radius {@code eps} around {@code x} ∩ [0, 1]:
     * α-CROWN never below CROWN, CROWN tighter than IBP somewhere (not vacuous), and all three containing the margins at
     * {@code samples} sampled points (to 10⁻⁹: float64 models).
     */
    public static void assertSoundAndTighterThanIbp(Module m, Tensor spec, Tensor x, Norm norm, double eps, int alphaSteps, int samples) {
        BoundedNetwork net = BoundedNetwork.of(m);
        InputRegion region = InputRegion.images(x, eps, norm);
        Interval ibp = net.ibp(region, spec), crown = net.crown(region, spec);
        Tensor alpha = net.alphaCrownLower(region, spec, BoundedNetwork.DEFAULT_CROWN_UNITS, alphaSteps, 0.1);
        org.assertj.core.api.Assertions.assertThat(alpha.sub(crown.lo()).min().item()).as(norm + ": α-CROWN never below CROWN").isGreaterThan(-1e-9);
        org.assertj.core.api.Assertions.assertThat(crown.lo().sub(ibp.lo()).max().item()).as(norm + ": CROWN tighter than IBP somewhere").isPositive();
        assertContainsSamples(m, spec, x, norm, eps, samples, 1e-9, ibp, crown, new Interval(alpha, crown.hi()));
    }

    /** At ε = 0 IBP's and CROWN's bounds of {@code net} (the view of {@code m}) both equal the margins at {@code x}, to {@code tolerance}. */
    public static void assertExactAtZero(BoundedNetwork net, Module m, Tensor spec, Tensor x, double tolerance) {
        Tensor margins = margins(m, spec, x);
        InputRegion point = InputRegion.ball(x, 0, Norm.LINF);
        for (Interval b : java.util.List.of(net.ibp(point, spec), net.crown(point, spec))) {
            org.assertj.core.api.Assertions.assertThat(b.lo().sub(margins).abs().max().item()).as("lower at ε = 0").isLessThan(tolerance);
            org.assertj.core.api.Assertions.assertThat(b.hi().sub(margins).abs().max().item()).as("upper at ε = 0").isLessThan(tolerance);
        }
    }

    /** The margins {@code spec} names, of {@code m} at {@code x}. */
    public static Tensor margins(Module m, Tensor spec, Tensor x) {
        try (Autograd.Guard g = Autograd.noGrad()) {
            return spec.matmul(m.forward(x).unsqueeze(2)).squeeze(2);
        }
    }
}
