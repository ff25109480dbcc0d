package dev.tikhon.verify;

import dev.tikhon.engine.Autograd;
import dev.tikhon.engine.Scope;
import dev.tikhon.engine.Tensor;
import dev.tikhon.nn.Activation;
import dev.tikhon.nn.Linear;
import dev.tikhon.nn.Module;
import dev.tikhon.nn.Sequential;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Branch and bound that cuts the input intervals of non-ReLU activations (tanh, SiLU; with ReLUs in a mixed network):
 * its bound is never above the true minimum (a refined grid of the 2-D box, {@link InputSplittingTest#gridMinimum}), never
 * below α-CROWN's, and proves true properties α-CROWN cannot. A search that dropped one child of a cut would prove the
 * false properties; one that did not cut would prove nothing beyond α-CROWN.
 */
class GeneralBranchAndBoundTest {
    static final int UNITS = BoundedNetwork.DEFAULT_CROWN_UNITS;
    static final double MARGIN = 0.02;

    /** A seeded 2-16-16-2 network: tanh or SiLU throughout, or "mixed" (ReLU, then tanh). */
    static Sequential network(long seed, String activation) {
        if (!activation.equals("mixed")) return InputSplittingTest.network(seed, activation);
        dev.tikhon.engine.Rng.seed(seed);
        Sequential f = new Sequential(new Linear(2, 16), Activation.relu(), new Linear(16, 16), Activation.parse("tanh"), new Linear(16, 2));
        f.to(InputSplittingTest.F64);
        f.train(false);
        return f;
    }

    /** {@code f} with its margin z₀ − z₁ shifted so that its minimum over [−1, 1]² is {@code minimum} (by the grid). */
    static double shift(Sequential f, double minimum) {
        return InputSplittingTest.shiftMinimum(f, (Linear) f.layers().get(4), minimum);
    }

    @Test
    void cutsAreSoundAtLeastAlphaCrownAndProveWhatItCannot() {
        InputRegion region = InputRegion.box(InputSplittingTest.LO, InputSplittingTest.HI);
        Tensor spec = InputSplittingTest.SPEC;
        int provedBeyondAlpha = 0, tighter = 0;
        for (String activation : List.of("tanh", "silu", "mixed")) {
            int provedHere = 0;
            for (long seed = 1; seed <= 3; seed++) {
                for (double minimum : new double[]{MARGIN, -MARGIN}) {   // a true property and a false one
                    Sequential f = network(seed, activation);
                    double truth = shift(f, minimum);
                    BoundedNetwork net = BoundedNetwork.of(f);
                    try (Scope s = Scope.open(); Autograd.Guard g = Autograd.noGrad()) {
                        double crown = net.crownLower(region, spec, UNITS, LowerSlope.ADAPTIVE).item();
                        double alpha = net.alphaCrownLower(region, spec, UNITS, Verification.ALPHA_STEPS, Verification.ALPHA_LR).item();
                        BranchAndBound.Outcome bab = BranchAndBound.search(net, region, spec, 0, UNITS,
                                BranchAndBound.Settings.DEFAULT.withDomains(256), crown);
                        String what = activation + " seed " + seed + " minimum " + minimum;
                        System.out.printf(java.util.Locale.ROOT, "%s: CROWN %.5f, α-CROWN %.5f, bab %.5f after %d domains, grid minimum %.5f%n",
                                what, crown, alpha, bab.lower(), bab.domains(), truth);
                        assertThat(bab.lower()).as(what + ": never above the true minimum").isLessThanOrEqualTo(truth + 1e-9);
                        assertThat(bab.lower()).as(what + ": never below CROWN or α-CROWN")
                                .isGreaterThanOrEqualTo(crown - 1e-9).isGreaterThanOrEqualTo(alpha - 1e-6);
                        if (bab.lower() > alpha + 1e-4) tighter++;
                        if (bab.lower() > 0 && alpha <= 0) provedHere++;
                    }
                }
            }
            assertThat(provedHere).as(activation + ": true properties proved by cuts but not by α-CROWN").isPositive();
            provedBeyondAlpha += provedHere;
        }
        assertThat(tighter).isGreaterThanOrEqualTo(provedBeyondAlpha);
    }

    /**
     * f(x) = tanh(x) − tanh(x) + 0.1 on [−1, 1], as two units (the true minimum 0.1; CROWN's bound −0.47). Cut both units
     * at 0 on the sides that meet only at x = 0 and the intervals alone leave that domain's bound negative, since each unit
     * is clipped on its own; the cuts' multipliers tie the two units together (their coefficients on the one input can
     * cancel). With CROWN's lines on every domain (no slopes optimized, so that only the multipliers differ), the search
     * verifies in 7 domains with them and is still at −0.038 after 256 without.
     */
    @Test
    void twoCancellingTanhUnitsNeedTheCutMultipliers() {
        dev.tikhon.nn.Linear first = new Linear(1, 2), second = new Linear(2, 2);
        Module f = new Sequential(first, Activation.parse("tanh"), second).to(InputSplittingTest.F64);
        BoundPropagationTest.set(first.weight().value(), 1, 1);
        BoundPropagationTest.set(first.bias().value(), 0, 0);
        BoundPropagationTest.set(second.weight().value(), 1, -1, 0, 0);
        BoundPropagationTest.set(second.bias().value(), 0.1, 0);
        InputRegion region = InputRegion.ball(Tensor.zeros(InputSplittingTest.F64, dev.tikhon.engine.Device.CPU, 1, 1), 1,
                dev.tikhon.attack.Norm.LINF);
        Tensor spec = Tensor.fromDoubles(new double[]{1, -1}, 1, 1, 2);
        BoundedNetwork net = BoundedNetwork.of(f);
        try (Scope s = Scope.open(); Autograd.Guard g = Autograd.noGrad()) {
            double crown = net.crownLower(region, spec, UNITS, LowerSlope.ADAPTIVE).item();
            BranchAndBound.Settings settings = BranchAndBound.Settings.DEFAULT.withDomains(256).withRootAlphaSteps(0).withDomainAlpha(false);
            BranchAndBound.Outcome with = BranchAndBound.search(net, region, spec, 0, UNITS, settings, crown);
            BranchAndBound.Outcome without = BranchAndBound.search(net, region, spec, 0, UNITS, settings.withCutBeta(false), crown);
            System.out.printf(java.util.Locale.ROOT, "cancelling tanh units: CROWN %.5f; with the cuts' β %.5f after %d domains, without %.5f after %d%n",
                    crown, with.lower(), with.domains(), without.lower(), without.domains());
            assertThat(with.lower()).as("verified, never above the true minimum").isPositive().isLessThanOrEqualTo(0.1 + 1e-9);
            assertThat(without.lower()).isLessThanOrEqualTo(0.1 + 1e-9);
            assertThat(with.domains()).as("the multipliers save domains").isLessThan(without.domains());
        }
    }

    /** Cuts at the midpoint, or at the kink nearest it where a piecewise-linear or kinked activation has one inside. */
    @Test
    void cutsAtTheKinkOfKinkedActivations() {
        Tensor l = Tensor.fromDoubles(new double[]{-1, 0.5, -1, -1}, 1, 4), u = Tensor.fromDoubles(new double[]{2, 2, 10, 3}, 1, 4);
        Pointwise leaky = Pointwise.of(new dev.tikhon.onnx.OnnxLayers.LeakyRelu(0.1));
        assertThat(leaky.splitPoints(l, u).toDoubleArray()).containsExactly(0, 1.25, 0, 0);
        assertThat(Pointwise.clip(0, 6).splitPoints(l, u).toDoubleArray()).containsExactly(0, 1.25, 6, 0);
        assertThat(Pointwise.silu().splitPoints(l, u).toDoubleArray()).containsExactly(0.5, 1.25, 4.5, 1);
    }
}
