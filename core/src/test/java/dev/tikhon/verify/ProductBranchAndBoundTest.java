package dev.tikhon.verify;

import dev.tikhon.engine.Autograd;
import dev.tikhon.engine.Rng;
import dev.tikhon.engine.Scope;
import dev.tikhon.engine.Tensor;
import dev.tikhon.nn.Activation;
import dev.tikhon.nn.Graph;
import dev.tikhon.nn.Linear;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Branch and bound that cuts the factors of products x·y (the McCormick planes' gap 2·r_x·r_y narrows with each cut), as
 * Shi et al.'s general branch and bound splits multiplications. Oracles, float64, on 2-D networks shifted so that the
 * margin's minimum over [−1, 1]² (a refined grid, {@link InputSplittingTest#gridMinimum}) is ±0.02: the search is never
 * above that minimum, never below CROWN or α-CROWN, tighter than the same budget without product cuts
 * ({@link BoundedNetwork#withoutProductSplits}) on most, and proves true properties that α-CROWN and the search without
 * product cuts leave negative.
 */
class ProductBranchAndBoundTest {
    static final int UNITS = BoundedNetwork.DEFAULT_CROWN_UNITS;
    static final double MARGIN = 0.02;

    /**
     * "quadratic": (W₁x) ⊙ (W₂x) → W₃, 2-8-2, nothing to split but the products; "glu": h = tanh(W₁x), (W₂h) ⊙ σ(W₃h) → W₄,
     * 2-16-8-2, products after activations that are cut too.
     */
    static Graph network(long seed, String kind) {
        Rng.seed(seed);
        List<Graph.Node> n = kind.equals("quadratic")
                ? List.of(
                        Graph.Node.apply(new Linear(2, 8), 0),
                        Graph.Node.apply(new Linear(2, 8), 0),
                        new Graph.Node(Graph.Op.MUL, null, new int[]{1, 2}, 0),
                        Graph.Node.apply(new Linear(8, 2), 3))
                : List.of(
                        Graph.Node.apply(new Linear(2, 16), 0),
                        Graph.Node.apply(Activation.parse("tanh"), 1),
                        Graph.Node.apply(new Linear(16, 8), 2),
                        Graph.Node.apply(new Linear(16, 8), 2),
                        Graph.Node.apply(Activation.parse("sigmoid"), 4),
                        new Graph.Node(Graph.Op.MUL, null, new int[]{3, 5}, 0),
                        Graph.Node.apply(new Linear(8, 2), 6));
        Graph g = new Graph(n, n.size());
        g.to(InputSplittingTest.F64);
        g.train(false);
        return g;
    }

    /** {@code f} with its margin z₀ − z₁ shifted so that its minimum over [−1, 1]² is {@code minimum} (by the grid). */
    static double shift(Graph f, double minimum) {
        return InputSplittingTest.shiftMinimum(f, (Linear) f.nodes().get(f.nodes().size() - 1).module(), minimum);
    }

    /** A product's two factors have ids after every activation's, name the fork and its side, and read its chains' bounds. */
    @Test
    void eachProductHasTwoFactorIdsAfterTheActivations() {
        BoundedNetwork net = BoundedNetwork.of(network(1, "glu"));
        List<Integer> ids = net.splittableLayers();
        List<Integer> factors = ids.stream().filter(id -> net.factor(id) >= 0).toList();
        assertThat(factors).hasSize(2);
        assertThat(ids.stream().filter(id -> net.factor(id) < 0).toList()).as("tanh and the sigmoid").hasSize(2)
                .allMatch(id -> id < factors.get(0));
        assertThat(net.factor(factors.get(0))).isZero();
        assertThat(net.factor(factors.get(1))).isOne();
        assertThat(net.node(factors.get(0))).isSameAs(net.node(factors.get(1))).isInstanceOf(Layers.Fork.class);
        assertThat(net.withoutProductSplits().splittableLayers()).hasSize(2);
        try (Scope s = Scope.open(); Autograd.Guard g = Autograd.noGrad()) {
            Trace trace = net.forwardTrace(InputRegion.box(InputSplittingTest.LO, InputSplittingTest.HI), UNITS);
            for (int side = 0; side < 2; side++) {
                Interval x = net.splitInterval(trace, factors.get(side));
                assertThat(x).isSameAs(trace.joined(net.node(factors.get(side))).get(side));
                assertThat(x.exampleShape()).containsExactly(8);
            }
        }
    }

    /**
     * With rounding accounted ({@link Rounding#accounted}: the cuts' multipliers and constants have their rounding
     * subtracted), the search on the gated net still holds the grid minimum and proves the true property it proves
     * without accounting (seed 2).
     */
    @Test
    void roundingIsAccountedThroughTheCutsMultipliers() {
        InputRegion region = InputRegion.box(InputSplittingTest.LO, InputSplittingTest.HI);
        for (double minimum : new double[]{MARGIN, -MARGIN}) {
            Graph f = network(2, "glu");
            double truth = shift(f, minimum);
            BoundedNetwork net = BoundedNetwork.of(f);
            try (Scope s = Scope.open(); Autograd.Guard g = Autograd.noGrad()) {
                double[] crown = new double[1];
                BranchAndBound.Outcome bab = Rounding.accounted(() -> {
                    crown[0] = net.crownLower(region, InputSplittingTest.SPEC, UNITS, LowerSlope.ADAPTIVE).item();
                    return BranchAndBound.search(net, region, InputSplittingTest.SPEC, 0, UNITS, BranchAndBound.Settings.DEFAULT.withDomains(64), crown[0]);
                });
                assertThat(bab.lower()).as("minimum " + minimum).isLessThanOrEqualTo(truth + 1e-9).isGreaterThanOrEqualTo(crown[0] - 1e-9);
                if (minimum > 0) assertThat(bab.lower()).as("proved with rounding accounted").isPositive();
            }
        }
    }

    /**
     * The cuts' multipliers and the product splits live in each batch's scope: on the gated net, a false property (nothing
     * verifies, every budget is spent), 640 domains end with the resident memory of 64.
     */
    @Test
    void memoryDoesNotGrowWithTheDomains() {
        Graph f = network(1, "glu");
        shift(f, -0.5);
        BoundedNetwork net = BoundedNetwork.of(f);
        InputRegion region = InputRegion.box(InputSplittingTest.LO, InputSplittingTest.HI);
        long shortKb = 0;
        for (int rep = 0; rep < 2; rep++) shortKb = Math.max(shortKb, residentAfter(net, region, 64));   // twice: allocator warm-up
        long longKb = residentAfter(net, region, 640);
        System.out.printf("product and cut branch and bound: RSS after 64 domains %d KB, after 640 %d KB%n", shortKb, longKb);
        assertThat(longKb - shortKb).as("resident-memory growth (KB)").isLessThan(60_000);
    }

    private static long residentAfter(BoundedNetwork net, InputRegion region, int domains) {
        try (Scope s = Scope.open(); Autograd.Guard g = Autograd.noGrad()) {
            BranchAndBound.Outcome o = BranchAndBound.search(net, region, InputSplittingTest.SPEC, 0, UNITS,
                    BranchAndBound.Settings.DEFAULT.withDomains(domains).withSteps(2).withRootAlphaSteps(2).withFalsify(false),
                    Double.NEGATIVE_INFINITY);
            assertThat(o.exhausted()).as("the budget ran out").isTrue();
            System.gc();
            return dev.tikhon.train.MemoryTest.residentKb();
        }
    }

    @Test
    void productCutsAreSoundAtLeastAlphaCrownAndProveWhatItCannot() {
        InputRegion region = InputRegion.box(InputSplittingTest.LO, InputSplittingTest.HI);
        Tensor spec = InputSplittingTest.SPEC;
        for (String kind : List.of("quadratic", "glu")) {
            int provedHere = 0, provedWith = 0, provedWithout = 0, tighter = 0;
            for (long seed = 1; seed <= 3; seed++) {
                for (double minimum : new double[]{MARGIN, -MARGIN}) {   // a true property and a false one
                    Graph f = network(seed, kind);
                    double truth = shift(f, minimum);
                    BoundedNetwork net = BoundedNetwork.of(f);
                    try (Scope s = Scope.open(); Autograd.Guard g = Autograd.noGrad()) {
                        double crown = net.crownLower(region, spec, UNITS, LowerSlope.ADAPTIVE).item();
                        double alpha = net.alphaCrownLower(region, spec, UNITS, Verification.ALPHA_STEPS, Verification.ALPHA_LR).item();
                        BranchAndBound.Settings settings = BranchAndBound.Settings.DEFAULT.withDomains(128);
                        BranchAndBound.Outcome bab = BranchAndBound.search(net, region, spec, 0, UNITS, settings, crown);
                        BranchAndBound.Outcome without = BranchAndBound.search(net.withoutProductSplits(), region, spec, 0, UNITS, settings, crown);
                        String what = kind + " seed " + seed + " minimum " + minimum;
                        System.out.printf(java.util.Locale.ROOT, "%s: CROWN %.5f, α-CROWN %.5f, bab %.5f after %d domains "
                                + "(without product cuts %.5f after %d), grid minimum %.5f%n",
                                what, crown, alpha, bab.lower(), bab.domains(), without.lower(), without.domains(), truth);
                        assertThat(bab.lower()).as(what + ": never above the true minimum").isLessThanOrEqualTo(truth + 1e-9);
                        assertThat(without.lower()).as(what + ": nor without product cuts").isLessThanOrEqualTo(truth + 1e-9);
                        assertThat(bab.lower()).as(what + ": never below CROWN or α-CROWN")
                                .isGreaterThanOrEqualTo(crown - 1e-9).isGreaterThanOrEqualTo(alpha - 1e-6);
                        if (bab.lower() > 0 && alpha <= 0 && without.lower() <= 0) provedHere++;
                        if (bab.lower() > 0) provedWith++;
                        if (without.lower() > 0) provedWithout++;
                        if (minimum > 0 && bab.lower() > without.lower() + 1e-4) tighter++;
                        if (minimum < 0) {   // a false property: each search ends on a counterexample, inside its budget
                            assertThat(bab.refuted()).as(what + ": falsified").isTrue();
                            assertThat(without.refuted() || without.stuck()).as(what + ": falsified without product cuts, or nothing to split").isTrue();
                            assertThat(bab.domains()).as(what).isLessThan(128);
                        }
                    }
                }
            }
            assertThat(provedWith).as(kind + ": proved with product cuts, at least what is proved without").isGreaterThanOrEqualTo(provedWithout);
            assertThat(tighter).as(kind + ": tighter with product cuts than without, on most of the three true properties").isGreaterThanOrEqualTo(2);
            // the quadratic net has nothing else to split; in the gated one, the sigmoid's cuts and their multipliers prove
            // seed 2 without product cuts too
            if (kind.equals("quadratic")) {
                assertThat(provedHere).as(kind + ": true properties proved with product cuts, not by α-CROWN nor without them").isPositive();
            }
        }
    }
}
