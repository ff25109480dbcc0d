package dev.tikhon.verify;

import dev.tikhon.attack.InputDomain;
import dev.tikhon.attack.Norm;
import dev.tikhon.engine.Autograd;
import dev.tikhon.engine.DType;
import dev.tikhon.engine.Device;
import dev.tikhon.engine.Rng;
import dev.tikhon.engine.Scope;
import dev.tikhon.engine.Tensor;
import dev.tikhon.nn.Activation;
import dev.tikhon.nn.Graph;
import dev.tikhon.nn.Linear;
import dev.tikhon.nn.Module;
import dev.tikhon.nn.Sequential;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * Oracles for input splitting on seeded 2-D networks (ReLU, SiLU, tanh) over the box [−1, 1]²: the true minimum of the
 * margin z₀ − z₁ from a dense float64 grid. The bound is never above it (soundness) and never below CROWN's; with the budget
 * it comes within a tolerance of it (completeness); a false property yields a counterexample that a forward pass
 * confirms; budget and stop hook hold; and a search that kept only one half of each split is caught by these oracles.
 */
class InputSplittingTest {
    static final DType F64 = DType.FLOAT64;
    static final int GRID = 301;
    static final double TOL = 0.02;

    /** A seeded random 2-16-16-2 network in float64 with the given activation, in evaluation mode. */
    static Sequential network(long seed, String activation) {
        Rng.seed(seed);
        Sequential f = new Sequential(new Linear(2, 16), act(activation), new Linear(16, 16), act(activation), new Linear(16, 2));
        f.to(F64);
        f.train(false);
        return f;
    }

    private static Module act(String name) {
        return name.equals("silu") ? new Graph.Gate(List.of(new Activation(Activation.Kind.SIGMOID))) : Activation.parse(name);
    }

    static final Tensor LO = Tensor.full(-1, F64, Device.CPU, 1, 2), HI = Tensor.full(1, F64, Device.CPU, 1, 2);
    static final Tensor SPEC = Tensor.fromDoubles(new double[]{1, -1}, 1, 1, 2);   // z₀ − z₁

    /**
     * min of z₀ − z₁ over a GRID × GRID grid of [−1, 1]², then over a GRID × GRID grid of the two cells around its best
     * point (spacing 4·10⁻⁵: within about 10⁻⁴ of the true minimum for these networks), and where it is.
     */
    static double[] gridMinimum(Module f) {
        double[] coarse = gridMinimum(f, -1, 1, -1, 1);
        double h = 2.0 / (GRID - 1);
        return gridMinimum(f, Math.max(-1, coarse[1] - h), Math.min(1, coarse[1] + h), Math.max(-1, coarse[2] - h), Math.min(1, coarse[2] + h));
    }

    private static double[] gridMinimum(Module f, double x0, double x1, double y0, double y1) {
        double[] xy = new double[2 * GRID * GRID];
        for (int i = 0; i < GRID; i++) {
            for (int j = 0; j < GRID; j++) {
                xy[2 * (i * GRID + j)] = x0 + (x1 - x0) * i / (GRID - 1);
                xy[2 * (i * GRID + j) + 1] = y0 + (y1 - y0) * j / (GRID - 1);
            }
        }
        try (Scope s = Scope.open(); Autograd.Guard g = Autograd.noGrad()) {
            Tensor z = f.forward(Tensor.fromDoubles(xy, (long) GRID * GRID, 2));
            Tensor[] m = z.select(1, 0).sub(z.select(1, 1)).minWithIndex(0);
            int at = (int) m[1].item();
            return new double[]{m[0].item(), xy[2 * at], xy[2 * at + 1]};
        }
    }

    /**
     * {@code f}'s margin z₀ − z₁ shifted, through the first bias of its last layer {@code last}, so that its minimum over
     * [−1, 1]² is {@code minimum} (by the grid); returns the grid minimum after the shift.
     */
    static double shiftMinimum(Module f, Linear last, double minimum) {
        double[] bias = last.bias().value().toDoubleArray();
        BoundPropagationTest.set(last.bias().value(), bias[0] + minimum - gridMinimum(f)[0], bias[1]);
        return gridMinimum(f)[0];
    }

    static double margin(Module f, double[] x) {
        try (Scope s = Scope.open(); Autograd.Guard g = Autograd.noGrad()) {
            Tensor z = f.forward(Tensor.fromDoubles(x, 1, 2));
            return z.select(1, 0).sub(z.select(1, 1)).item();
        }
    }

    static InputSplitting.Outcome search(BoundedNetwork net, double threshold, InputSplitting.Settings settings) {
        return InputSplitting.search(net, LO, HI, SPEC, new double[]{threshold}, InputSplitting.Goal.ALL, settings, () -> false);
    }

    static double crown(BoundedNetwork net) {
        try (Scope s = Scope.open(); Autograd.Guard g = Autograd.noGrad()) {
            return net.crownLower(InputRegion.box(LO, HI), SPEC, BoundedNetwork.DEFAULT_CROWN_UNITS, LowerSlope.ADAPTIVE).item();
        }
    }

    /**
     * ReLU, SiLU and tanh networks, 3 seeds each, a property true by TOL (threshold = grid minimum − TOL): the search proves
     * it within 1,024 sub-boxes (the gap to the minimum shrinks below TOL), its bound never exceeds the grid minimum and
     * never falls below CROWN's; with a budget of one it is CROWN's (and IBP's) own, and with α-CROWN's 5 steps at least that.
     */
    @Test
    void soundNeverBelowCrownAndCompleteWithinATolerance() {
        for (String activation : List.of("relu", "silu", "tanh")) {
            for (long seed = 1; seed <= 3; seed++) {
                Module f = network(seed, activation);
                BoundedNetwork net = BoundedNetwork.of(f);
                double truth = gridMinimum(f)[0], crown = crown(net);
                InputSplitting.Outcome root = search(net, truth - TOL, InputSplitting.Settings.DEFAULT.withDomains(1));
                InputSplitting.Outcome full = search(net, truth - TOL, InputSplitting.Settings.DEFAULT);
                String what = activation + " seed " + seed;
                assertThat(root.rows()[0]).as(what + ": one box is CROWN's").isGreaterThanOrEqualTo(crown - 1e-12);
                InputSplitting.Outcome alpha = search(net, truth - TOL, InputSplitting.Settings.DEFAULT.withDomains(1).withAlphaSteps(5));
                assertThat(alpha.rows()[0]).as(what + ": α-CROWN on the box, at least CROWN's, never above the minimum")
                        .isGreaterThanOrEqualTo(root.rows()[0] - 1e-12).isLessThanOrEqualTo(truth + 1e-12);
                assertThat(full.proved()).as(what + ": proved within " + TOL + " of the minimum " + truth + " (CROWN " + crown + ")").isTrue();
                assertThat(full.counterexample()).isNull();
                assertThat(full.rows()[0]).as(what + ": never above the true minimum").isLessThanOrEqualTo(truth + 1e-12)
                        .isGreaterThan(truth - TOL).isGreaterThanOrEqualTo(crown - 1e-12);
                assertThat(full.domains()).isLessThanOrEqualTo(InputSplitting.DEFAULT_DOMAINS);
            }
        }
    }

    /**
     * A tanh network shifted so that its margin's minimum over the box is 0.02: true, but CROWN and α-CROWN leave it
     * unproved; input splitting proves it, via {@link Verification#worstMargin}, and so does branch and bound's cuts of
     * tanh's input intervals.
     */
    @Test
    void provesWhatCrownAndAlphaCrownCannot() {
        Sequential f = network(2, "tanh");
        Linear last = (Linear) f.layers().get(4);
        double[] bias = last.bias().value().toDoubleArray();
        BoundPropagationTest.set(last.bias().value(), bias[0] + 0.02 - gridMinimum(f)[0], bias[1]);
        Tensor x = Tensor.zeros(F64, Device.CPU, 1, 2), y = Tensor.fromLongs(new long[]{0}, 1), eps = Tensor.full(1, F64, Device.CPU, 1);
        java.util.function.Function<Verification.Method, Double> bound = m -> InputDomain.within(InputDomain.UNBOUNDED,   // not images
                () -> Verification.worstMargin(f, m, x, y, eps, Norm.LINF, 2).item());
        double crown = bound.apply(Verification.Method.CROWN), alpha = bound.apply(Verification.Method.ALPHA_CROWN);
        double bab = bound.apply(Verification.Method.BAB), split = bound.apply(Verification.Method.BAB_INPUT);
        assertThat(crown).as("CROWN").isNegative();
        assertThat(alpha).as("α-CROWN").isNegative();
        // branch and bound now cuts tanh's input intervals too (GenBaB): on this 2-input network it proves it as well
        assertThat(bab).as("branch and bound's tanh cuts").isPositive().isLessThanOrEqualTo(0.02 + 1e-12);
        assertThat(split).as("input splitting").isPositive().isLessThanOrEqualTo(0.02 + 1e-12);
        assertThatThrownBy(() -> Verification.worstMargin(f, Verification.Method.BAB_INPUT, x, y, eps, Norm.L2, 2))
                .hasMessageContaining("ℓ∞ balls only").hasMessageContaining("--norm linf");
    }

    /** A property false by 0.05: the counterexample lies in the box and a forward pass puts its margin at or below the threshold. */
    @Test
    void aFalsePropertyGivesACounterexampleAForwardPassConfirms() {
        for (String activation : List.of("relu", "silu")) {
            Module f = network(3, activation);
            double threshold = gridMinimum(f)[0] + 0.05;
            InputSplitting.Outcome o = search(BoundedNetwork.of(f), threshold, InputSplitting.Settings.DEFAULT);
            assertThat(o.proved()).isFalse();
            assertThat(o.counterexample()).as(activation).isNotNull();
            for (double v : o.counterexample()) assertThat(v).isBetween(-1.0, 1.0);
            assertThat(margin(f, o.counterexample())).as(activation + ": the forward pass").isLessThanOrEqualTo(threshold);
            assertThat(o.rows()[0]).as("still a sound bound").isLessThanOrEqualTo(margin(f, o.counterexample()) + 1e-12);
        }
    }

    /** The budget caps the sub-boxes bounded; the stop hook ends the search between batches, leaving a sound bound. */
    @Test
    void budgetAndStopHookAreRespected() {
        Module f = network(1, "relu");
        BoundedNetwork net = BoundedNetwork.of(f);
        double truth = gridMinimum(f)[0];
        InputSplitting.Outcome few = search(net, truth - 1e-3, InputSplitting.Settings.DEFAULT.withDomains(7).withBatch(2));
        assertThat(few.domains()).isEqualTo(7);
        assertThat(few.stopped()).isTrue();
        assertThat(few.proved()).isFalse();
        assertThat(few.rows()[0]).isLessThanOrEqualTo(truth);
        AtomicInteger asked = new AtomicInteger();
        InputSplitting.Outcome stopped = InputSplitting.search(net, LO, HI, SPEC, new double[]{truth - 1e-3}, InputSplitting.Goal.ALL,
                InputSplitting.Settings.DEFAULT.withBatch(4), () -> asked.incrementAndGet() > 3);   // three batches, at most 1 + 2 + 4
        assertThat(asked.get()).as("asked before each batch, then once more").isEqualTo(4);
        assertThat(stopped.domains()).isBetween(3, 7);
        assertThat(stopped.stopped()).isTrue();
        assertThat(stopped.rows()[0]).isLessThanOrEqualTo(truth);
        InputSplitting.Outcome never = InputSplitting.search(net, LO, HI, SPEC, new double[]{0}, InputSplitting.Goal.ALL,
                InputSplitting.Settings.DEFAULT, () -> true);
        assertThat(never.domains()).isZero();
        assertThat(never.rows()[0]).isEqualTo(Double.NEGATIVE_INFINITY);
    }

    /**
     * The oracles above catch a split that loses half of a box: the same search keeping only the lower half of each split
     * reports, on some of these networks, a bound above the grid minimum or a proof of a false property, which the real
     * search never does.
     */
    @Test
    void aSplitThatDropsHalfABoxIsCaught() {
        int contradicted = 0;
        for (long seed = 1; seed <= 3; seed++) {
            Module f = network(seed, "relu");
            BoundedNetwork net = BoundedNetwork.of(f);
            double truth = gridMinimum(f)[0];
            InputSplitting.Outcome lossy = InputSplitting.search(net, LO, HI, SPEC, new double[]{truth + 0.01}, InputSplitting.Goal.ALL,
                    InputSplitting.Settings.DEFAULT.withDomains(256), () -> false, false);
            if (lossy.proved() || lossy.rows()[0] > truth) contradicted++;
            InputSplitting.Outcome real = search(net, truth + 0.01, InputSplitting.Settings.DEFAULT.withDomains(256));
            assertThat(real.proved()).isFalse();
            assertThat(real.rows()[0]).isLessThanOrEqualTo(truth);
        }
        assertThat(contradicted).as("networks on which the lossy search contradicts the grid").isPositive();
    }

    /** Any of the rows (a VNN-LIB case): a box proved by z₀ − z₁ > t on one part and z₁ − z₀ > t on the other is proved. */
    @Test
    void anyRowProvesASubBoxTheConjunctionDoesNot() {
        // f(x) = (x₀, −x₀): z₀ − z₁ = 2x₀ > −0.5 on x₀ > −0.25, z₁ − z₀ = −2x₀ > −0.5 on x₀ < 0.25: each sub-box by one of them
        Sequential f = new Sequential(new Linear(2, 2));
        BoundPropagationTest.set(((Linear) f.layers().get(0)).weight().value(), 1, 0, -1, 0);
        BoundPropagationTest.set(((Linear) f.layers().get(0)).bias().value(), 0, 0);
        f.to(F64);
        BoundedNetwork net = BoundedNetwork.of(f);
        Tensor spec = Tensor.fromDoubles(new double[]{1, -1, -1, 1}, 1, 2, 2);
        double[] t = {-0.5, -0.5};
        InputSplitting.Outcome any = InputSplitting.search(net, LO, HI, spec, t, InputSplitting.Goal.ANY, InputSplitting.Settings.DEFAULT, () -> false);
        assertThat(any.proved()).isTrue();
        assertThat(any.domains()).isEqualTo(3);   // the root, then each half by one row
        assertThat(any.rows()).containsExactly(-2, -2);   // neither row alone holds on the whole box
        InputSplitting.Outcome all = InputSplitting.search(net, LO, HI, spec, t, InputSplitting.Goal.ALL, InputSplitting.Settings.DEFAULT, () -> false);
        assertThat(all.proved()).isFalse();
        assertThat(all.counterexample()).isNotNull();
    }
    /**
     * Each batch of sub-boxes is bounded in a scope of its own: a search of 1,536 sub-boxes ends with the resident memory of
     * 384. An 8-input 8-64-64-2 network whose threshold lies between CROWN's bound and the sampled minimum, so that the
     * budget runs out with no proof and no counterexample.
     */
    @Test
    void memoryDoesNotGrowWithTheSubBoxes() {
        Rng.seed(17);
        Sequential f = new Sequential(new Linear(8, 64), Activation.relu(), new Linear(64, 64), Activation.relu(), new Linear(64, 2));
        f.to(F64);
        f.train(false);
        Tensor lo = Tensor.full(-1, F64, Device.CPU, 1, 8), hi = Tensor.full(1, F64, Device.CPU, 1, 8);
        BoundedNetwork net = BoundedNetwork.of(f);
        double crown, sampled;
        try (Scope s = Scope.open(); Autograd.Guard g = Autograd.noGrad()) {
            crown = net.crownLower(InputRegion.box(lo, hi), SPEC, BoundedNetwork.DEFAULT_CROWN_UNITS, LowerSlope.ADAPTIVE).item();
            Tensor z = f.forward(Tensor.rand(F64, Device.CPU, 20_000, 8).mul(2).sub(1));
            sampled = z.select(1, 0).sub(z.select(1, 1)).min().item();
        }
        double threshold = crown + 0.9 * (sampled - crown);
        long shortKb = 0;
        // twice, allocator warm-up: 384 sub-boxes reach full batches (1 + 2 + … + 128, then 128); 128 alone grew 90 MB to 1,280,
        // which then stayed within 1.2 MB up to 5,120
        for (int rep = 0; rep < 2; rep++) shortKb = Math.max(shortKb, residentAfter(net, lo, hi, threshold, 384));
        long longKb = residentAfter(net, lo, hi, threshold, 1536);
        System.out.printf("input splitting: CROWN %.4f, sampled minimum %.4f; RSS after 384 sub-boxes %d KB, after 1,536 %d KB%n", crown,
                sampled, shortKb, longKb);
        assertThat(longKb - shortKb).as("resident-memory growth (KB)").isLessThan(60_000);
    }

    private static long residentAfter(BoundedNetwork net, Tensor lo, Tensor hi, double threshold, int domains) {
        try (Scope s = Scope.open()) {
            InputSplitting.Outcome o = InputSplitting.search(net, lo, hi, SPEC, new double[]{threshold}, InputSplitting.Goal.ALL,
                    InputSplitting.Settings.DEFAULT.withDomains(domains), () -> false);
            assertThat(o.domains()).as("the budget ran out").isEqualTo(domains);
            assertThat(o.counterexample()).isNull();
            System.gc();
            return dev.tikhon.train.MemoryTest.residentKb();
        }
    }
}
