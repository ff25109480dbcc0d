package dev.tikhon.verify;

import dev.tikhon.attack.Norm;
import dev.tikhon.engine.Autograd;
import dev.tikhon.engine.DType;
import dev.tikhon.engine.Device;
import dev.tikhon.engine.OneThread;
import dev.tikhon.engine.Rng;
import dev.tikhon.engine.Tensor;
import dev.tikhon.nn.Activation;
import dev.tikhon.nn.Linear;
import dev.tikhon.nn.Module;
import dev.tikhon.nn.Sequential;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

/**
 * Oracle for α-CROWN: on one hidden ReLU layer with exact intermediate bounds, the best lower slopes reach the
 * triangle (LP) relaxation's minimum, max over α of min over x of a function linear in each = min over x of the
 * relaxation (a minimax over compact convex sets). With a scalar input that minimum is a convex piecewise-linear
 * function's, found exactly at its breakpoints. Soundness on deeper models by sampling is in
 * {@link BoundPropagationTest#assertSampledPointsInside}.
 */
@ExtendWith(OneThread.class)
class AlphaCrownTest {
    static final DType F64 = DType.FLOAT64;

    @Test
    void optimizedSlopesReachTheTriangleRelaxationOnOneHiddenLayer() {
        int hidden = 12, checked = 0, tighter = 0;
        for (long seed = 1; seed <= 6; seed++) {
            Rng.seed(seed);
            Linear first = new Linear(1, hidden), second = new Linear(hidden, 2);
            Module f = new Sequential(first, Activation.relu(), second).to(F64);
            f.train(false);
            double[] w = first.weight().value().toDoubleArray(), b = first.bias().value().mul(4).toDoubleArray();
            BoundPropagationTest.set(first.bias().value(), b);   // spread the units' kinks over the input interval
            double[] v = second.weight().value().toDoubleArray(), c0 = second.bias().value().toDoubleArray();
            double lo = -1, hi = 1;
            Tensor x0 = Tensor.zeros(F64, Device.CPU, 1, 1);
            InputRegion region = InputRegion.ball(x0, 1, Norm.LINF);
            Tensor spec = Tensor.fromDoubles(new double[]{1, -1}, 1, 1, 2);   // z₀ − z₁
            BoundedNetwork net = BoundedNetwork.of(f);
            double crown = net.crownLower(region, spec, BoundedNetwork.DEFAULT_CROWN_UNITS, LowerSlope.ADAPTIVE).item();
            double alpha = net.alphaCrownLower(region, spec, BoundedNetwork.DEFAULT_CROWN_UNITS, 300, 0.05).item();
            double lp = triangleRelaxationMinimum(w, b, v, c0[0] - c0[1], lo, hi);
            double exact = exactMinimum(f, lo, hi);
            assertThat(alpha).as("seed %d: α-CROWN %.9f, LP %.9f", seed, alpha, lp).isLessThanOrEqualTo(lp + 1e-9)
                    .isGreaterThanOrEqualTo(crown - 1e-12).isCloseTo(lp, within(1e-4 * (1 + Math.abs(lp))));
            assertThat(lp).as("seed %d: the relaxation never above the true minimum", seed).isLessThanOrEqualTo(exact + 1e-9);
            System.out.printf(java.util.Locale.ROOT, "seed %d: CROWN %.6f, α-CROWN %.6f, triangle relaxation %.6f, true minimum %.6f%n",
                    seed, crown, alpha, lp, exact);
            checked++;
            if (alpha > crown + 1e-3) tighter++;
        }
        assertThat(checked).isEqualTo(6);
        assertThat(tighter).as("networks where optimizing the slopes tightened CROWN's bound").isGreaterThanOrEqualTo(2);
    }

    /**
     * f(x) = relu(x) − relu(x) = 0 on [−1, 1], as two units. The relaxation bounds the second from above by its chord
     * (x + 1)/2 and the first from below by αx: CROWN's adaptive α = 1 gives min (x − 1)/2 = −1, the best α = ½ gives
     * −½ for every x, which is the triangle relaxation's minimum (at x = 0), below the true 0.
     */
    @Test
    void twoCancellingUnitsClosedForm() {
        InputRegion region = InputRegion.ball(Tensor.zeros(F64, Device.CPU, 1, 1), 1, Norm.LINF);
        Tensor spec = Tensor.fromDoubles(new double[]{1, -1}, 1, 1, 2);
        BoundedNetwork net = BoundedNetwork.of(cancellingUnits(0));
        assertThat(net.crownLower(region, spec, BoundedNetwork.DEFAULT_CROWN_UNITS, LowerSlope.ADAPTIVE).item()).isCloseTo(-1, within(1e-12));
        assertThat(net.alphaCrownLower(region, spec, BoundedNetwork.DEFAULT_CROWN_UNITS, 200, 0.05).item())
                .isLessThanOrEqualTo(-0.5 + 1e-12).isCloseTo(-0.5, within(1e-4));
        assertThat(net.alphaCrownLower(region, spec, BoundedNetwork.DEFAULT_CROWN_UNITS, 0, 0.05).item())
                .as("no steps: CROWN's bound").isCloseTo(-1, within(1e-12));
    }

    /** z₀ − z₁ = relu(x) − relu(x) + c for a scalar input, written as two hidden units (float64). */
    static Module cancellingUnits(double c) {
        Linear first = new Linear(1, 2), second = new Linear(2, 2);
        Module f = new Sequential(first, Activation.relu(), second).to(F64);
        BoundPropagationTest.set(first.weight().value(), 1, 1);
        BoundPropagationTest.set(first.bias().value(), 0, 0);
        BoundPropagationTest.set(second.weight().value(), 1, -1, 0, 0);
        BoundPropagationTest.set(second.bias().value(), c, 0);
        return f;
    }

    /**
     * min over x ∈ [lo, hi] of Σⱼ cⱼ·rⱼ(x) + c, cⱼ = v₀ⱼ − v₁ⱼ, where rⱼ is relu(zⱼ) when cⱼ ≥ 0 (the relaxation's lower
     * side is relu's own convex hull) and the chord from (lⱼ, 0) to (uⱼ, uⱼ) when cⱼ &lt; 0 and the unit is unstable.
     */
    private static double triangleRelaxationMinimum(double[] w, double[] b, double[] v, double c, double lo, double hi) {
        int h = w.length;
        List<Double> candidates = new ArrayList<>(List.of(lo, hi));
        for (int j = 0; j < h; j++) {
            double kink = -b[j] / w[j];
            if (kink > lo && kink < hi) candidates.add(kink);
        }
        double best = Double.POSITIVE_INFINITY;
        for (double x : candidates) {
            double g = c;
            for (int j = 0; j < h; j++) {
                double cj = v[j] - v[h + j], z = w[j] * x + b[j];
                double l = b[j] - Math.abs(w[j]), u = b[j] + Math.abs(w[j]);
                double r;
                if (u <= 0) r = 0;
                else if (l >= 0) r = z;
                else r = cj >= 0 ? Math.max(0, z) : u * (z - l) / (u - l);
                g += cj * r;
            }
            best = Math.min(best, g);
        }
        return best;
    }

    /** The network's own minimum of z₀ − z₁ on [lo, hi], on a fine grid plus the kinks (piecewise linear). */
    private static double exactMinimum(Module f, double lo, double hi) {
        int n = 20001;
        double[] xs = new double[n];
        for (int i = 0; i < n; i++) xs[i] = lo + (hi - lo) * i / (n - 1);
        try (Autograd.Guard g = Autograd.noGrad()) {
            Tensor z = f.forward(Tensor.fromDoubles(xs, n, 1));
            return z.select(1, 0).sub(z.select(1, 1)).min().item();
        }
    }

    /**
     * On two hidden layers the slopes are variables of the final walk and of the intermediate pass that bounds the second
     * layer's inputs; the bounds are never below CROWN's and tighter in total.
     */
    @Test
    void intermediatePassesGetSlopesOfTheirOwn() {
        Case c = Case.mlp(32, 9, 10, 6);
        BoundedNetwork net = c.net();
        InputRegion region = c.region();
        Tensor spec = c.spec();
        AlphaSlopes slopes = new AlphaSlopes();
        Tensor alpha = net.alphaCrownLower(region, spec, BoundedNetwork.DEFAULT_CROWN_UNITS, 20, 0.1, slopes);
        assertThat(slopes.origins()).as("walks with slope variables").contains(net.finalOrigin()).hasSizeGreaterThan(1);
        Tensor crown = net.crownLower(region, spec, BoundedNetwork.DEFAULT_CROWN_UNITS, LowerSlope.ADAPTIVE);
        assertThat(alpha.sub(crown).min().item()).isGreaterThanOrEqualTo(-1e-12);
        assertThat(alpha.sub(crown).sum().item()).as("total gain over CROWN").isPositive();
    }

    /**
     * Examples are bounded independently, so a batch runs in chunks of examples (bounding the graph's memory): with a
     * budget of one slope variable every chunk is one example, and each row equals that example bounded alone; the default
     * budget stays sound and never below CROWN; where no unit is unstable there is nothing to chunk and CROWN is returned.
     */
    @Test
    void examplesAreBoundedInChunksOfTheirOwn() {
        Case c = Case.mlp(32, 9, 10, 6);
        BoundedNetwork net = c.net();
        int units = BoundedNetwork.DEFAULT_CROWN_UNITS;
        Tensor oneByOne = net.alphaCrownLower(c.region(), c.spec(), units, 10, 0.1, 1L);
        for (int i = 0; i < 6; i++) {
            Tensor alone = net.alphaCrownLower(c.region().narrow(i, 1), c.spec().narrow(0, i, 1), units, 10, 0.1, new AlphaSlopes());
            assertThat(oneByOne.narrow(0, i, 1).sub(alone).abs().max().item()).as("example %d", i).isLessThan(1e-12);
        }
        Tensor crown = net.crownLower(c.region(), c.spec(), units, LowerSlope.ADAPTIVE);
        Tensor chunked = net.alphaCrownLower(c.region(), c.spec(), units, 10, 0.1);
        assertThat(chunked.sub(crown).min().item()).isGreaterThanOrEqualTo(-1e-12);
        assertThat(chunked.sub(crown).sum().item()).as("total gain over CROWN").isPositive();

        InputRegion tiny = InputRegion.images(c.x(), 1e-9, Norm.LINF);
        Tensor stable = net.alphaCrownLower(tiny, c.spec(), units, 10, 0.1, 1L);
        assertThat(stable.sub(net.crownLower(tiny, c.spec(), units, LowerSlope.ADAPTIVE)).abs().max().item()).isLessThan(1e-12);
    }

    /** Each step's graph is freed with its scope: 200 steps end with the resident memory of 10. */
    @Test
    void memoryDoesNotGrowWithTheSteps() {
        Case c = Case.mlp(64, 12, 13, 16);
        long shortKb = 0;
        for (int rep = 0; rep < 2; rep++) shortKb = Math.max(shortKb, residentAfter(c, 10));   // twice: allocator warm-up
        long longKb = residentAfter(c, 200);
        System.out.printf("α-CROWN: RSS after 10 steps %d KB, after 200 %d KB%n", shortKb, longKb);
        assertThat(longKb - shortKb).as("resident-memory growth (KB)").isLessThan(60_000);
    }

    private static long residentAfter(Case c, int steps) {
        try (dev.tikhon.engine.Scope s = dev.tikhon.engine.Scope.open()) {
            c.net().alphaCrownLower(c.region(), c.spec(), BoundedNetwork.DEFAULT_CROWN_UNITS, steps, 0.1);
            System.gc();
            return dev.tikhon.train.MemoryTest.residentKb();
        }
    }

    /** A two-hidden-layer MLP of the given width, n random 1×8×8 images, their predicted classes, margins and ℓ∞ balls of radius 0.03. */
    private record Case(Module f, Tensor x, Tensor y, BoundedNetwork net, InputRegion region, Tensor spec) {
        static Case mlp(int width, long modelSeed, long dataSeed, int n) {
            Module f = BoundPropagationTest.model("mlp", Map.of("hidden", List.of(width, width)), modelSeed);
            Rng.seed(dataSeed);
            Tensor x = Tensor.rand(F64, Device.CPU, n, 1, 8, 8);
            Tensor y;
            try (Autograd.Guard g = Autograd.noGrad()) {
                y = f.forward(x).argmax(1);
            }
            return new Case(f, x, y, BoundedNetwork.of(f), InputRegion.images(x, 0.03, Norm.LINF), BoundedNetwork.margins(y, 5, x));
        }
    }

    @Test
    void verificationUsesItByName() {
        assertThat(Verification.Method.parse("alpha-crown")).isEqualTo(Verification.Method.ALPHA_CROWN);
        assertThat(Verification.Method.ALPHA_CROWN.toString()).isEqualTo("alpha-crown");
        assertThatThrownBy(() -> Verification.Method.parse("beta-crown")).hasMessageContaining("ibp, crown, alpha-crown, bab or bab-input");
        Case c = Case.mlp(32, 7, 8, 8);
        Module f = c.f();
        Tensor x = c.x(), y = c.y();
        Tensor eps = Tensor.full(0.02, F64, Device.CPU, 8);
        double[] crown = Verification.worstMargin(f, Verification.Method.CROWN, x, y, eps, Norm.LINF, 5).toDoubleArray();
        double[] alpha = Verification.worstMargin(f, Verification.Method.ALPHA_CROWN, x, y, eps, Norm.LINF, 5).toDoubleArray();
        double gain = 0;
        for (int i = 0; i < 8; i++) {
            assertThat(alpha[i]).as("image %d", i).isGreaterThanOrEqualTo(crown[i] - 1e-12);
            gain += alpha[i] - crown[i];
        }
        assertThat(gain).as("α-CROWN tightens the worst margins of a two-layer MLP").isPositive();
    }

    /**
     * Stopping once verified: where CROWN's bounds already verify every image of a chunk, the ascent does not start (the
     * bounds are CROWN's); elsewhere the verdicts are those of the full ascent, and every bound is at least CROWN's.
     */
    @Test
    void stoppingOnceVerifiedKeepsEveryVerdict() {
        Module m = BoundPropagationTest.model("mlp", Map.of(), 8);
        Rng.seed(12);
        Tensor x = Tensor.rand(F64, Device.CPU, 6, 1, 8, 8);
        Tensor spec = BoundOracles.spec(m, x);
        Tensor idle = spec.abs().flatten(2, -1).sum(2, false).eq(0);
        BoundedNetwork net = BoundedNetwork.of(m);
        int mixed = 0;
        for (double eps : new double[]{1e-4, 0.01, 0.03}) {
            InputRegion region = InputRegion.images(x, eps, Norm.LINF);
            Tensor crown, full, early;
            try (Autograd.Guard g = Autograd.noGrad()) {
                crown = net.crownLower(region, spec, BoundedNetwork.DEFAULT_CROWN_UNITS, LowerSlope.ADAPTIVE);
                full = net.alphaCrownLower(region, spec, BoundedNetwork.DEFAULT_CROWN_UNITS, 10, 0.1);
                early = net.alphaCrownLowerUntilVerified(region, spec, BoundedNetwork.DEFAULT_CROWN_UNITS, 10, 0.1);
            }
            boolean[] fullVerified = full.maskedFill(idle, Double.POSITIVE_INFINITY).minWithIndex(1)[0].gt(0).toBooleanArray();
            boolean[] earlyVerified = early.maskedFill(idle, Double.POSITIVE_INFINITY).minWithIndex(1)[0].gt(0).toBooleanArray();
            assertThat(earlyVerified).as("ε %s: verdicts", eps).containsExactly(fullVerified);
            assertThat(early.sub(crown).min().item()).as("ε %s: at least CROWN", eps).isGreaterThanOrEqualTo(-1e-12);
            boolean allByCrown = crown.maskedFill(idle, Double.POSITIVE_INFINITY).min().item() > 0;
            if (allByCrown) {
                assertThat(early.sub(crown).abs().max().item()).as("ε %s: CROWN verified all, no ascent", eps).isLessThan(1e-12);
            }
            int verified = 0;
            for (boolean v : fullVerified) if (v) verified++;
            if (verified > 0 && verified < fullVerified.length) mixed++;
        }
        assertThat(mixed).as("a radius where some images verify and some do not").isPositive();
    }

    /**
     * Freezing an example once its bounds are positive: per radius, the verdicts equal the full ascent's; every bound is at
     * least CROWN's and at most the margins at sampled points of the ball (sound); an example never frozen ends with exactly
     * the full ascent's bounds (the open examples' ascent is the full one, the frozen rows only left out); and the batch
     * each step bounds narrows as examples freeze, so that where some verify early and others never, the steps after the
     * first freeze bound fewer examples.
     */
    @Test
    void freezingVerifiedExamplesKeepsTheVerdictsAndNarrowsTheBatch() {
        Module m = BoundPropagationTest.model("mlp", Map.of("hidden", List.of(32, 32)), 7);
        Rng.seed(8);
        int n = 12, steps = 10, midway = 0;
        Tensor x = Tensor.rand(F64, Device.CPU, n, 1, 8, 8);
        Tensor spec = BoundOracles.spec(m, x);
        Tensor idle = spec.abs().flatten(2, -1).sum(2, false).eq(0);
        BoundedNetwork net = BoundedNetwork.of(m);
        for (double eps : new double[]{0.005, 0.015, 0.03}) {
            InputRegion region = InputRegion.images(x, eps, Norm.LINF);
            AlphaSlopes slopes = new AlphaSlopes();
            Tensor crown = net.crownLower(region, spec, BoundedNetwork.DEFAULT_CROWN_UNITS, LowerSlope.ADAPTIVE);
            Tensor full = net.alphaCrownLower(region, spec, BoundedNetwork.DEFAULT_CROWN_UNITS, steps, 0.1);
            Tensor frozen = net.alphaCrownLower(region, spec, BoundedNetwork.DEFAULT_CROWN_UNITS, steps, 0.1, slopes,
                    new BoundedNetwork.Stop(0, idle, BoundedNetwork.NEVER));
            boolean[] fullVerified = verified(full, idle), frozenVerified = verified(frozen, idle), crownVerified = verified(crown, idle);
            assertThat(frozenVerified).as("ε %s: verdicts", eps).containsExactly(fullVerified);
            assertThat(frozen.sub(crown).min().item()).as("ε %s: at least CROWN", eps).isGreaterThanOrEqualTo(-1e-12);
            assertThat(frozen.sub(full).max().item()).as("ε %s: never above the full ascent", eps).isLessThanOrEqualTo(1e-12);
            long open = 0, byAscent = 0;
            for (int i = 0; i < n; i++) {
                if (!fullVerified[i]) {
                    open++;
                    assertThat(frozen.narrow(0, i, 1).sub(full.narrow(0, i, 1)).abs().max().item())
                            .as("ε %s: example %d, never frozen, has the full ascent's bounds", eps, i).isLessThan(1e-9);
                }
                if (fullVerified[i] && !crownVerified[i]) byAscent++;
            }
            for (int i = 0; i < 40; i++) {   // sampled points of the ball ∩ [0, 1]: the margins there are at least the bounds
                Tensor at = BoundOracles.margins(m, spec, x.add(BoundOracles.perturbation(x, Norm.LINF, eps, i)).clamp(0, 1));
                assertThat(at.sub(frozen).min().item()).as("ε %s: sample %d", eps, i).isGreaterThanOrEqualTo(-1e-9);
            }
            List<Long> bounded = slopes.bounded;
            System.out.printf("ε %s: examples bounded per computation %s%n", eps, bounded);
            for (int k = 1; k < bounded.size(); k++) assertThat(bounded.get(k)).isLessThanOrEqualTo(bounded.get(k - 1));
            long last = bounded.get(bounded.size() - 1);
            if (open > 0) {   // the never-verified examples run every step, and they alone after the last freeze
                assertThat(bounded).as("ε %s: every step run", eps).hasSize(steps + 1);
                assertThat(last).as("ε %s: examples bounded last", eps).isEqualTo(open);
                assertThat(bounded.get(1)).as("ε %s: the first step leaves out what CROWN verified", eps).isEqualTo(n - count(crownVerified));
            }
            if (open > 0 && byAscent > 0) {   // some froze during the ascent, others never: the batch narrowed midway
                midway++;
                assertThat(bounded.get(1)).as("ε %s: narrowed after the first step", eps).isGreaterThan(last);
                assertThat(bounded.stream().mapToLong(Long::longValue).sum()).as("ε %s: rows bounded", eps).isLessThan(n * (steps + 1L));
            }
        }
        assertThat(midway).as("radii where some examples froze during the ascent and others never verified").isPositive();
    }

    private static long count(boolean[] v) {
        long c = 0;
        for (boolean b : v) if (b) c++;
        return c;
    }

    private static boolean[] verified(Tensor bounds, Tensor idle) {
        return bounds.maskedFill(idle, Double.POSITIVE_INFINITY).minWithIndex(1)[0].gt(0).toBooleanArray();
    }

    /** A case's CROWN bounds and its full 20-step α-CROWN bounds: the two ends a stopped ascent lies between. */
    private record Ends(Case c, Tensor crown, Tensor full) {
        static Ends of(Case c) {
            int units = BoundedNetwork.DEFAULT_CROWN_UNITS;
            return new Ends(c, c.net().crownLower(c.region(), c.spec(), units, LowerSlope.ADAPTIVE),
                    c.net().alphaCrownLower(c.region(), c.spec(), units, 20, 0.1));
        }
    }

    /**
     * A stop hook asked after every computation: one that fires when asked the (k+1)-th time stops after k steps, with
     * exactly the bounds of a k-step ascent (the same trajectory, cut), at least CROWN's, at most the full ascent's and
     * sound at sampled points; one that fires at once gives CROWN's bounds, through the chunked entry point too.
     */
    @Test
    void aStopHookEndsTheAscentWithTheBestBoundsSoFar() {
        Ends e = Ends.of(Case.mlp(32, 9, 10, 6));
        Case c = e.c();
        BoundedNetwork net = c.net();
        int units = BoundedNetwork.DEFAULT_CROWN_UNITS;
        Tensor crown = e.crown(), full = e.full();
        for (int k : new int[]{0, 3, 7}) {
            int[] asked = {0};
            AlphaSlopes slopes = new AlphaSlopes();
            Tensor stopped = net.alphaCrownLower(c.region(), c.spec(), units, 20, 0.1, slopes,
                    BoundedNetwork.Stop.never(() -> ++asked[0] > k));
            assertThat(slopes.bounded).as("k %d: computations", k).hasSize(k + 1);
            assertThat(asked[0]).isEqualTo(k + 1);
            Tensor shorter = net.alphaCrownLower(c.region(), c.spec(), units, k, 0.1);
            assertThat(stopped.sub(shorter).abs().max().item()).as("k %d: a %d-step ascent's bounds", k, k).isLessThan(1e-12);
            assertThat(stopped.sub(crown).min().item()).as("k %d: at least CROWN", k).isGreaterThanOrEqualTo(-1e-12);
            assertThat(stopped.sub(full).max().item()).as("k %d: at most the full ascent", k).isLessThanOrEqualTo(1e-12);
            for (int i = 0; i < 20; i++) {
                Tensor at = BoundOracles.margins(c.f(), c.spec(), c.x().add(BoundOracles.perturbation(c.x(), Norm.LINF, 0.03, i)).clamp(0, 1));
                assertThat(at.sub(stopped).min().item()).as("k %d: sample %d", k, i).isGreaterThanOrEqualTo(-1e-9);
            }
            if (k == 3) assertThat(full.sub(stopped).sum().item()).as("the full ascent gained more").isPositive();
        }
        Tensor atOnce = net.alphaCrownLower(c.region(), c.spec(), units, 20, 0.1, () -> true);
        assertThat(atOnce.sub(crown).abs().max().item()).as("fired at once: CROWN's bounds").isLessThan(1e-12);
        Tensor untilVerified = net.alphaCrownLowerUntilVerified(c.region(), c.spec(), units, 20, 0.1, () -> true);
        assertThat(untilVerified.sub(crown).abs().max().item()).isLessThan(1e-12);
    }
    /**
     * An ascent that ends for an example once a predicate of its bounds holds (vnnlib: every case of a box refuted): one
     * that holds at once gives CROWN's bounds; one that asks row 1 to pass the midpoint between CROWN's and the full
     * ascent's bound of it stops that example early (fewer examples bounded in later steps), with row 1 past the midpoint
     * and every bound between CROWN's and the full ascent's; one that never holds is the full ascent.
     */
    @Test
    void anAscentEndsForAnExampleOnceItsBoundsDecideIt() {
        Ends e = Ends.of(Case.mlp(32, 9, 10, 6));
        Case c = e.c();
        BoundedNetwork net = c.net();
        int units = BoundedNetwork.DEFAULT_CROWN_UNITS;
        Tensor crown = e.crown(), full = e.full();
        Tensor atOnce = net.alphaCrownLowerUntil(c.region(), c.spec(), units, 20, 0.1, b -> true, BoundedNetwork.NEVER);
        assertThat(atOnce.sub(crown).abs().max().item()).as("decided at once: CROWN's bounds").isLessThan(1e-12);
        Tensor never = net.alphaCrownLowerUntil(c.region(), c.spec(), units, 20, 0.1, b -> false, BoundedNetwork.NEVER);
        assertThat(never.sub(full).abs().max().item()).as("never decided: the full ascent").isLessThan(1e-12);

        // row 1 (row 0 is the true class against itself where the label is 0): the example gaining most on it
        double[] gain = full.sub(crown).select(1, 1).toDoubleArray();
        int best = 0;
        for (int i = 1; i < gain.length; i++) if (gain[i] > gain[best]) best = i;
        assertThat(gain[best]).as("the ascent gains on row 1 somewhere").isGreaterThan(1e-6);
        double[] crownRow = crown.select(1, 1).toDoubleArray(), fullRow = full.select(1, 1).toDoubleArray();
        double mid = (crownRow[best] + fullRow[best]) / 2;
        AlphaSlopes slopes = new AlphaSlopes();
        // every example is decided once its row 1 passes that value (the examples are independent: best's trajectory is the full one's)
        Tensor early = net.alphaCrownLower(c.region(), c.spec(), units, 20, 0.1, slopes, new BoundedNetwork.Stop(Double.NaN, null,
                BoundedNetwork.NEVER, b -> b[1] > mid));
        assertThat(early.select(1, 1).toDoubleArray()[best]).as("row 1 passed the midpoint").isGreaterThan(mid);
        assertThat(early.sub(crown).min().item()).as("at least CROWN").isGreaterThanOrEqualTo(-1e-12);
        assertThat(early.sub(full).max().item()).as("at most the full ascent").isLessThanOrEqualTo(1e-12);
        assertThat(slopes.bounded.get(slopes.bounded.size() - 1)).as("examples bounded in the last step, of %d: %s", gain.length, slopes.bounded)
                .isLessThan((long) gain.length);
    }
}
