package dev.tikhon.verify;

import dev.tikhon.attack.Norm;
import dev.tikhon.engine.Autograd;
import dev.tikhon.engine.DType;
import dev.tikhon.engine.Device;
import dev.tikhon.engine.Rng;
import dev.tikhon.engine.Scope;
import dev.tikhon.engine.Tensor;
import dev.tikhon.nn.Activation;
import dev.tikhon.nn.Linear;
import dev.tikhon.nn.Module;
import dev.tikhon.nn.Sequential;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

/** Oracles for branch and bound: a closed form that needs β, exact minima on a grid, and sampled points on the model zoo. */
class BranchAndBoundTest {
    static final DType F64 = DType.FLOAT64;
    static final int UNITS = BoundedNetwork.DEFAULT_CROWN_UNITS;

    /**
     * The defaults with a budget of {@code domains} and {@code steps} Adam steps per batch of domains, and no α-CROWN at the
     * root: the search alone.
     */
    static BranchAndBound.Settings settings(int domains, int steps) {
        return BranchAndBound.Settings.DEFAULT.withDomains(domains).withSteps(steps).withRootAlphaSteps(0);
    }

    /**
     * f(x) = relu(x) − relu(x) + 0.1 on [−1, 1], as two units: the true minimum is 0.1, CROWN's bound −0.9. Split on both
     * units, three domains are exact; the fourth (first unit active, second inactive: only x = 0) keeps the bound
     * x + 0.1 ≥ −0.9 through its intervals alone, since each unit's interval is clipped on its own. Its β terms
     * −β₁x + β₂x make it (1 − β₁ + β₂)x + 0.1, which is 0.1 at β₁ − β₂ = 1: with β branch and bound verifies, without
     * it it is stuck when it splits the first unit first. The intercept rule splits the second first, and never meets that
     * domain.
     */
    @Test
    void twoCancellingUnitsNeedTheSplitMultipliers() {
        Module f = AlphaCrownTest.cancellingUnits(0.1);
        InputRegion region = InputRegion.ball(Tensor.zeros(F64, Device.CPU, 1, 1), 1, Norm.LINF);
        Tensor spec = Tensor.fromDoubles(new double[]{1, -1}, 1, 1, 2);
        BoundedNetwork net = BoundedNetwork.of(f);
        try (Autograd.Guard g = Autograd.noGrad()) {
            assertThat(net.crownLower(region, spec, UNITS, LowerSlope.ADAPTIVE).item()).isCloseTo(-0.9, within(1e-12));
            BranchAndBound.Outcome withBeta = BranchAndBound.search(net, region, spec, 0, UNITS, settings(64, 50));
            assertThat(withBeta.lower()).as("verified, never above the true minimum").isPositive().isLessThanOrEqualTo(0.1 + 1e-9);
            assertThat(withBeta.exhausted()).isFalse();
            assertThat(withBeta.domains()).isLessThanOrEqualTo(7);   // the root, its two children, their four
            // the height rule splits the first unit first (a tie): its domain "active, inactive" is stuck without β
            BranchAndBound.Outcome intervalsOnly = BranchAndBound.search(net, region, spec, 0, UNITS,
                    settings(64, 0).withBranching(BranchAndBound.Branching.HEIGHT));
            assertThat(intervalsOnly.stuck()).isTrue();
            assertThat(intervalsOnly.lower()).isCloseTo(-0.9, within(1e-9));
            // the intercept rule splits the second (coefficient −1) first: with it inactive, IBP gives 0.1; with it active,
            // CROWN's slope 1 on the first makes x − x + 0.1: verified in three domains, without β
            BranchAndBound.Outcome intercept = BranchAndBound.search(net, region, spec, 0, UNITS, settings(64, 0));
            assertThat(intercept.lower()).isPositive().isLessThanOrEqualTo(0.1 + 1e-9);
            assertThat(intercept.domains()).isEqualTo(3);
        }
    }

    /**
     * Random two-hidden-layer networks of a 2-D input on the box [−0.5, 0.5]²: the branch-and-bound bound of z₀ − z₁ is never
     * above its true minimum (a 401 × 401 grid), never below CROWN's, and tighter than CROWN on some.
     */
    @Test
    void randomNetworksBoundsAreSoundAndTighterThanCrown() {
        int tighter = 0, verifiedOnlyByBab = 0, warmDomains = 0, coldDomains = 0;
        for (long seed = 1; seed <= 8; seed++) {
            Sequential f = randomNetwork(seed);
            try (Scope s = Scope.open(); Autograd.Guard g = Autograd.noGrad()) {
                InputRegion region = square();
                Tensor spec = Tensor.fromDoubles(new double[]{1, -1}, 1, 1, 2);   // z₀ − z₁
                // shift the margin so that the true minimum is 0.05: verifiable, and not by a wide margin
                Linear last = (Linear) f.layers().get(4);
                double[] bias = last.bias().value().toDoubleArray();
                BoundPropagationTest.set(last.bias().value(), bias[0] + 0.05 - gridMinimum(f, 0.5, 401), bias[1]);
                BoundedNetwork net = BoundedNetwork.of(f);
                double crown = net.crownLower(region, spec, UNITS, LowerSlope.ADAPTIVE).item();
                BranchAndBound.Outcome bab = BranchAndBound.search(net, region, spec, 0, UNITS, settings(256, 20));
                // β only with the height rule (session 16's search), and the splits through the intervals alone (stuck ends too)
                BranchAndBound.Outcome betaHeight = BranchAndBound.search(net, region, spec, 0, UNITS,
                        settings(256, 20).withDomainAlpha(false).withBranching(BranchAndBound.Branching.HEIGHT).withWarmStart(false));
                // every domain from CROWN's slopes and β = 0, and with the parent's after only 3 steps per batch
                BranchAndBound.Outcome cold = BranchAndBound.search(net, region, spec, 0, UNITS, settings(256, 20).withWarmStart(false));
                BranchAndBound.Outcome warmFew = BranchAndBound.search(net, region, spec, 0, UNITS, settings(256, 3));
                BranchAndBound.Outcome coldFew = BranchAndBound.search(net, region, spec, 0, UNITS, settings(256, 3).withWarmStart(false));
                BranchAndBound.Outcome intervalsOnly = BranchAndBound.search(net, region, spec, 0, UNITS, settings(256, 0));
                // the whole default: α-CROWN at the root first, its intermediate bounds reused by every domain
                BranchAndBound.Outcome full = BranchAndBound.search(net, region, spec, 0, UNITS, BranchAndBound.Settings.DEFAULT.withDomains(256));
                System.out.printf(java.util.Locale.ROOT, "seed %d: CROWN %.5f; α, β, intercept rule %.5f after %d domains (cold %.5f after %d); "
                        + "3 steps warm %.5f after %d, cold %.5f after %d; β, height rule %.5f after %d; intervals only %.5f after %d; "
                        + "with the root's α-CROWN %.5f after %d; true minimum 0.05%n", seed, crown, bab.lower(), bab.domains(), cold.lower(),
                        cold.domains(), warmFew.lower(), warmFew.domains(), coldFew.lower(), coldFew.domains(), betaHeight.lower(),
                        betaHeight.domains(), intervalsOnly.lower(), intervalsOnly.domains(), full.lower(), full.domains());
                for (BranchAndBound.Outcome o : List.of(bab, betaHeight, intervalsOnly, full, cold, warmFew, coldFew)) {
                    assertThat(o.lower()).as("seed %d: never above the true minimum", seed).isLessThanOrEqualTo(0.05 + 1e-9);
                    assertThat(o.lower()).as("seed %d: never below CROWN", seed).isGreaterThanOrEqualTo(crown - 1e-9);
                }
                if (bab.lower() > crown + 1e-6) tighter++;
                if (bab.lower() > 0 && crown <= 0) verifiedOnlyByBab++;
                warmDomains += warmFew.domains();
                coldDomains += coldFew.domains();
            }
        }
        // with few steps per batch, the parent's α and β carry the optimization down the tree (seed 5: 5 domains against 39)
        assertThat(warmDomains).as("domains with 3 steps per batch, warm start against cold").isLessThan(coldDomains);
        assertThat(tighter).as("networks where branching tightened CROWN's bound").isPositive();
        assertThat(verifiedOnlyByBab).as("networks verified by branch and bound but not by CROWN").isPositive();
    }

    /** A seeded random 2-8-8-2 ReLU network in float64, in evaluation mode. */
    static Sequential randomNetwork(long seed) {
        Rng.seed(seed);
        Sequential f = new Sequential(new Linear(2, 8), Activation.relu(), new Linear(8, 8), Activation.relu(), new Linear(8, 2));
        f.to(F64);
        f.train(false);
        return f;
    }

    /** The box [−0.5, 0.5]² around the origin. */
    static InputRegion square() {
        return InputRegion.ball(Tensor.zeros(F64, Device.CPU, 1, 2), 0.5, Norm.LINF);
    }

    /** min over the grid of [−r, r]² of z₀ − z₁ (the network is piecewise linear: the grid gets within a few 10⁻⁴). */
    private static double gridMinimum(Module f, double r, int n) {
        double[] xy = new double[2 * n * n];
        for (int i = 0; i < n; i++) {
            for (int j = 0; j < n; j++) {
                xy[2 * (i * n + j)] = -r + 2 * r * i / (n - 1);
                xy[2 * (i * n + j) + 1] = -r + 2 * r * j / (n - 1);
            }
        }
        Tensor z = f.forward(Tensor.fromDoubles(xy, (long) n * n, 2));
        return z.select(1, 0).sub(z.select(1, 1)).min().item();
    }

    /** On the model zoo (MLP, CNN), in ℓ∞ and ℓ2: sampled points of the region and PGD's worst lie above the bound, which is ≥ CROWN's and IBP's, and verifies what α-CROWN does. */
    @Test
    void sampledPointsLieAboveTheBoundOnTheZoo() {
        Rng.seed(21);
        for (Module f : List.of(BoundPropagationTest.model("mlp", Map.of("hidden", List.of(24, 16)), 1),
                BoundPropagationTest.model("cnn", Map.of(), 3))) {
            for (Norm norm : Norm.values()) {
                double eps = norm == Norm.LINF ? 0.03 : 0.3;
                try (Scope s = Scope.open()) {
                    Tensor x = Tensor.rand(F64, Device.CPU, 2, 1, 8, 8), y;
                    try (Autograd.Guard g = Autograd.noGrad()) {
                        y = f.forward(x).argmax(1);
                    }
                    InputRegion region = InputRegion.ball(x, eps, norm);
                    BoundedNetwork net = BoundedNetwork.of(f);
                    Tensor spec = BoundedNetwork.marginsOverOthers(y, 5, x);
                    Tensor bab, crown, ibp, alpha;
                    try (Autograd.Guard g = Autograd.noGrad()) {
                        crown = net.crownLower(region, spec, UNITS, LowerSlope.ADAPTIVE).minWithIndex(1)[0];
                        ibp = net.ibp(region, spec).lo().minWithIndex(1)[0];
                        // a small budget: soundness, not tightness; α-CROWN first on the MLP only (on the CNN it costs tens of seconds here)
                        int alphaSteps = f.describe().contains("Conv") ? 0 : 5;
                        bab = BranchAndBound.worstLower(net, region, spec, UNITS, settings(16, 5).withRootAlphaSteps(alphaSteps));
                        alpha = alphaSteps == 0 ? crown : net.alphaCrownLower(region, spec, UNITS, alphaSteps, Verification.ALPHA_LR).minWithIndex(1)[0];
                    }
                    assertThat(bab.sub(crown).min().item()).as(f.describe() + " " + norm + ": never below CROWN").isGreaterThan(-1e-12);
                    assertThat(bab.sub(ibp).min().item()).as(f.describe() + " " + norm + ": never below IBP").isGreaterThan(-1e-12);
                    for (int i = 0; i < 2; i++) {   // an image CROWN or IBP verifies gets no α-CROWN: verdicts, not values
                        if (alpha.toDoubleArray()[i] > 0) assertThat(bab.toDoubleArray()[i]).as(f.describe() + " " + norm + ": verifies what α-CROWN does").isPositive();
                        if (bab.toDoubleArray()[i] <= 0) assertThat(bab.toDoubleArray()[i]).isGreaterThanOrEqualTo(alpha.toDoubleArray()[i] - 1e-9);
                    }
                    Tensor pgd = new dev.tikhon.attack.Pgd(norm, eps, 20, 2.5 * eps / 20, true).attack(f, x, y).adversarial();
                    for (int i = 0; i < 2; i++) {
                        Tensor points = Tensor.cat(List.of(BoundPropagationTest.sample(x.narrow(0, i, 1), eps, norm, 1000), pgd.narrow(0, i, 1)), 0);
                        Tensor m;
                        try (Autograd.Guard g = Autograd.noGrad()) {
                            m = f.forward(points).matmul(spec.select(0, i).t());   // [samples, K − 1]
                        }
                        assertThat(m.min().item()).as(f.describe() + " " + norm + " image " + i).isGreaterThan(bab.toDoubleArray()[i] - 1e-9);
                    }
                }
            }
        }
    }

    /** Each batch of domains is bounded in a scope of its own: a search of 640 domains ends with the resident memory of 64. */
    @Test
    void memoryDoesNotGrowWithTheDomains() {
        Module f = BoundPropagationTest.model("mlp", Map.of("hidden", List.of(32, 32)), 5);
        Rng.seed(6);
        Tensor x = Tensor.rand(F64, Device.CPU, 1, 1, 8, 8), y;
        try (Autograd.Guard g = Autograd.noGrad()) {
            y = f.forward(x).argmax(1);
        }
        InputRegion region = InputRegion.images(x, 0.2, Norm.LINF);   // far too wide to verify: every budget is spent
        Tensor spec = BoundedNetwork.marginsOverOthers(y, 5, x);
        BoundedNetwork net = BoundedNetwork.of(f);
        long shortKb = 0;
        for (int rep = 0; rep < 2; rep++) shortKb = Math.max(shortKb, residentAfter(net, region, spec, 64));   // twice: allocator warm-up
        long longKb = residentAfter(net, region, spec, 640);
        System.out.printf("branch and bound: RSS after 64 domains %d KB, after 640 %d KB%n", shortKb, longKb);
        assertThat(longKb - shortKb).as("resident-memory growth (KB)").isLessThan(60_000);
    }

    private static long residentAfter(BoundedNetwork net, InputRegion region, Tensor spec, int domains) {
        try (Scope s = Scope.open(); Autograd.Guard g = Autograd.noGrad()) {
            BranchAndBound.Outcome o = BranchAndBound.search(net, region, spec, 0, UNITS, settings(domains, 2).withFalsify(false));
            assertThat(o.exhausted()).as("the budget ran out").isTrue();
            System.gc();
            return dev.tikhon.train.MemoryTest.residentKb();
        }
    }

    /**
     * z = 2x and z' = x on [−1, 1], both unstable, with output −relu(z') + 0·relu(z): z's relaxation is the taller
     * (−l·u/(u − l) = 1 against ½) but costs the bound nothing (its coefficient is 0), z' costs ½. The height rule splits z,
     * the intercept rule z'.
     */
    @Test
    void theInterceptRuleSplitsTheUnitThatCostsTheBound() {
        Linear first = new Linear(1, 2), last = new Linear(2, 1);
        Module f = new Sequential(first, Activation.relu(), last).to(F64);
        f.train(false);
        BoundPropagationTest.set(first.weight().value(), 2, 1);
        BoundPropagationTest.set(first.bias().value(), 0, 0);
        BoundPropagationTest.set(last.weight().value(), 0, -1);
        BoundPropagationTest.set(last.bias().value(), 0.1);
        InputRegion region = InputRegion.ball(Tensor.zeros(F64, Device.CPU, 1, 1), 1, Norm.LINF);
        Tensor spec = Tensor.fromDoubles(new double[]{1}, 1, 1, 1);
        BoundedNetwork net = BoundedNetwork.of(f);
        try (Autograd.Guard g = Autograd.noGrad()) {
            for (boolean alpha : new boolean[]{false, true}) {
                BranchAndBound.Settings s = settings(8, 5).withDomainAlpha(alpha);
                assertThat(BranchAndBound.rootSplit(net, region, spec, 0, UNITS, s.withBranching(BranchAndBound.Branching.HEIGHT)))
                        .containsExactly(1, 0);
                assertThat(BranchAndBound.rootSplit(net, region, spec, 0, UNITS, s.withBranching(BranchAndBound.Branching.INTERCEPT)))
                        .containsExactly(1, 1);
            }
            // −relu(x) + 0.1 ≥ −0.9, reached at x = 1: after the one split that matters, both halves are exact
            BranchAndBound.Outcome o = BranchAndBound.search(net, region, spec, 0, UNITS, settings(8, 5));
            assertThat(o.lower()).isCloseTo(-0.9, within(1e-9));
        }
    }

    /**
     * The root domain's final walk with α optimized: on the random networks, never below CROWN's adaptive slopes, above
     * them on some, and never above the true minimum; without α the root's bound is CROWN's.
     */
    @Test
    void slopesOnTheDomainsRaiseTheRootAboveCrown() {
        int raised = 0;
        for (long seed = 1; seed <= 8; seed++) {
            Sequential f = randomNetwork(seed);
            try (Scope s = Scope.open(); Autograd.Guard g = Autograd.noGrad()) {
                InputRegion region = square();
                Tensor spec = Tensor.fromDoubles(new double[]{1, -1}, 1, 1, 2);   // z₀ − z₁
                BoundedNetwork net = BoundedNetwork.of(f);
                double crown = net.crownLower(region, spec, UNITS, LowerSlope.ADAPTIVE).item();
                double truth = gridMinimum(f, 0.5, 201);
                double withAlpha = BranchAndBound.search(net, region, spec, 0, UNITS, settings(1, 20)).lower();
                double without = BranchAndBound.search(net, region, spec, 0, UNITS, settings(1, 20).withDomainAlpha(false)).lower();
                assertThat(without).as("seed %d: no split, no α: CROWN's bound (or IBP's, if larger)", seed)
                        .isGreaterThanOrEqualTo(crown - 1e-12);
                assertThat(withAlpha).as("seed %d", seed).isGreaterThanOrEqualTo(without - 1e-12).isLessThanOrEqualTo(truth + 1e-9);
                if (withAlpha > without + 1e-6) raised++;
            }
        }
        assertThat(raised).as("networks whose root bound α raised").isPositive();
    }

    /**
     * The root α-CROWN's intermediate bounds that every domain reuses: on random networks, each layer's interval holds the
     * pre-activations of 2,000 sampled inputs, lies within CROWN's (the first step's), and is tighter somewhere.
     */
    @Test
    void theRootsAlphaCrownIntermediateBoundsAreSoundAndTighter() {
        int tighter = 0;
        for (long seed = 1; seed <= 4; seed++) {
            Sequential f = randomNetwork(seed);
            try (Scope s = Scope.open(); Autograd.Guard g = Autograd.noGrad()) {
                InputRegion region = square();
                Tensor spec = Tensor.fromDoubles(new double[]{1, -1}, 1, 1, 2);   // z₀ − z₁
                BoundedNetwork net = BoundedNetwork.of(f);
                Map<Integer, Interval> known = new java.util.HashMap<>();
                net.alphaCrownLower(region, spec, UNITS, 20, Verification.ALPHA_LR, new AlphaSlopes(), known);
                Trace crown = net.forwardOnDomains(region, UNITS, new Splits(Map.of()), null, null);
                assertThat(known.keySet()).containsExactlyInAnyOrder(1, 3);
                Tensor points = Tensor.rand(F64, Device.CPU, 2000, 2).sub(0.5);
                Tensor pre1 = f.layers().get(0).forward(points);
                Tensor pre3 = f.layers().get(2).forward(pre1.relu());
                for (int layer : new int[]{1, 3}) {
                    Interval k = known.get(layer), c = crown.input(net.node(layer));
                    Tensor pre = layer == 1 ? pre1 : pre3;
                    assertThat(pre.sub(k.lo()).min().item()).as("seed %d, layer %d: samples above the lower ends", seed, layer).isGreaterThan(-1e-12);
                    assertThat(k.hi().sub(pre).min().item()).as("seed %d, layer %d: samples below the upper ends", seed, layer).isGreaterThan(-1e-12);
                    assertThat(k.lo().sub(c.lo()).min().item()).as("seed %d, layer %d: within CROWN's", seed, layer).isGreaterThan(-1e-12);
                    assertThat(c.hi().sub(k.hi()).min().item()).as("seed %d, layer %d: within CROWN's", seed, layer).isGreaterThan(-1e-12);
                    if (k.lo().sub(c.lo()).max().item() > 1e-6 || c.hi().sub(k.hi()).max().item() > 1e-6) tighter++;
                }
            }
        }
        assertThat(tighter).as("layers where α-CROWN tightened CROWN's intermediate bounds").isPositive();
    }

    /**
     * An example whose margin is ≤ 0 at the centre itself (misclassified) cannot be verified: no α-CROWN and no search
     * are spent on it, and its bound is the larger of CROWN's and IBP's.
     */
    @Test
    void aMisclassifiedCentreIsNotSearched() {
        Sequential f = randomNetwork(5);
        try (Scope s = Scope.open(); Autograd.Guard g = Autograd.noGrad()) {
            InputRegion region = square();
            double centre = f.forward(region.centre()).select(1, 0).sub(f.forward(region.centre()).select(1, 1)).item();
            Tensor spec = Tensor.fromDoubles(centre > 0 ? new double[]{-1, 1} : new double[]{1, -1}, 1, 1, 2);   // negative at the centre
            BoundedNetwork net = BoundedNetwork.of(f);
            double crown = net.crownLower(region, spec, UNITS, LowerSlope.ADAPTIVE).item(), ibp = net.ibp(region, spec).lo().item();
            double bab = BranchAndBound.worstLower(net, region, spec, UNITS, BranchAndBound.Settings.DEFAULT).item();
            assertThat(bab).isEqualTo(Math.max(crown, ibp)).isLessThanOrEqualTo(-Math.abs(centre));
        }
    }

    @Test
    void verificationUsesItByName() {
        assertThat(Verification.Method.parse("bab")).isEqualTo(Verification.Method.BAB);
        assertThat(Verification.Method.BAB.toString()).isEqualTo("bab");
        assertThatThrownBy(() -> Verification.Method.parse("mip")).hasMessageContaining("ibp, crown, alpha-crown, bab or bab-input");
    }

    /**
     * The stop hook reaches the root's α-CROWN: one that fires at once leaves the root's CROWN and IBP bounds (α-CROWN's first
     * computation is CROWN's; no step, no search); one that fires after a few asks lies between those and the unstopped
     * search's verdicts' bounds; each is sound at sampled points; and the unstopped root α-CROWN, which freezes images above
     * the threshold, verifies every image the full α-CROWN ascent verifies.
     */
    @Test
    void aStopHookEndsTheRootAlphaCrownAndTheSearch() {
        Module f = BoundPropagationTest.model("mlp", Map.of("hidden", List.of(32, 32)), 7);
        Rng.seed(8);
        Tensor x = Tensor.rand(F64, Device.CPU, 12, 1, 8, 8), y;
        try (Autograd.Guard g = Autograd.noGrad()) {
            y = f.forward(x).argmax(1);
        }
        double eps = 0.015;
        InputRegion region = InputRegion.images(x, eps, Norm.LINF);
        BoundedNetwork net = BoundedNetwork.of(f);
        Tensor spec = BoundedNetwork.marginsOverOthers(y, 5, x);
        BranchAndBound.Settings settings = settings(16, 5).withRootAlphaSteps(10);
        Tensor root, atOnce, later, full, alpha;
        int[] asked = {0};
        try (Autograd.Guard g = Autograd.noGrad()) {
            root = net.crownLower(region, spec, UNITS, LowerSlope.ADAPTIVE).maximum(net.ibp(region, spec).lo()).minWithIndex(1)[0];
            atOnce = BranchAndBound.worstLower(net, region, spec, UNITS, settings, 0, () -> true);
            later = BranchAndBound.worstLower(net, region, spec, UNITS, settings, 0, () -> ++asked[0] > 4);
            full = BranchAndBound.worstLower(net, region, spec, UNITS, settings);
            alpha = net.alphaCrownLower(region, spec, UNITS, 10, Verification.ALPHA_LR).minWithIndex(1)[0];
        }
        assertThat(atOnce.sub(root).abs().max().item()).as("fired at once: the root's CROWN and IBP bounds").isLessThan(1e-12);
        assertThat(later.sub(root).min().item()).as("stopped later: at least the root's").isGreaterThanOrEqualTo(-1e-12);
        assertThat(asked[0]).as("asked until it fired, and after").isGreaterThanOrEqualTo(5);
        double[] a = alpha.toDoubleArray(), b = full.toDoubleArray();
        int byAlpha = 0;
        for (int i = 0; i < 12; i++) {
            if (a[i] > 0) assertThat(b[i]).as("image %d: verifies what α-CROWN does", i).isPositive();
            if (a[i] > 0 && root.toDoubleArray()[i] <= 0) byAlpha++;
        }
        assertThat(byAlpha).as("images α-CROWN verifies and CROWN does not").isPositive();
        for (Tensor bound : List.of(atOnce, later, full)) {
            for (int i = 0; i < 12; i++) {
                Tensor m;
                try (Autograd.Guard g = Autograd.noGrad()) {
                    m = f.forward(BoundPropagationTest.sample(x.narrow(0, i, 1), eps, Norm.LINF, 200)).matmul(spec.select(0, i).t());
                }
                assertThat(m.min().item()).as("image %d", i).isGreaterThan(bound.toDoubleArray()[i] - 1e-9);
            }
        }
    }

    /**
     * A false property ends its search on a counterexample: on a random 2-16-16-2 ReLU network, balls wide enough that the
     * decision boundary crosses some of them, ℓ∞ and ℓ2. Each counterexample the hooks are told lies in its ball, the network's margin there (a plain forward pass) is ≤ 0 and not below the search's bound;
     * the search ends well inside its budget, where without falsifying it spends all of it and still proves nothing.
     */
    @Test
    void aFalsePropertyEndsOnACounterexampleAtItsDomainsLowestPoints() {
        Rng.seed(21);
        List<Linear> layers = List.of(new Linear(2, 16), new Linear(16, 16), new Linear(16, 2));
        Module f = new Sequential(layers.get(0), Activation.relu(), layers.get(1), Activation.relu(), layers.get(2)).to(F64);
        f.train(false);
        Tensor x = Tensor.rand(F64, Device.CPU, 8, 2).mul(0.6).sub(0.3), y;   // centres in [−0.3, 0.3]², where the units' hyperplanes pass
        try (Autograd.Guard g = Autograd.noGrad()) {
            // the logit difference's median over the centres moved to 0: the decision boundary runs among them
            Tensor z = f.forward(x);
            double[] d = z.narrow(1, 0, 1).sub(z.narrow(1, 1, 1)).flatten(0, -1).toDoubleArray();
            java.util.Arrays.sort(d);
            layers.get(2).bias().value().narrow(0, 0, 1).add_(-(d[3] + d[4]) / 2);
            y = f.forward(x).argmax(1);
        }
        Tensor spec = BoundedNetwork.marginsOverOthers(y, 2, x);
        BoundedNetwork net = BoundedNetwork.of(f);
        double[][] centres = new double[8][];
        for (int i = 0; i < 8; i++) centres[i] = x.narrow(0, i, 1).flatten(0, -1).toDoubleArray();
        for (Norm norm : Norm.values()) {
            double eps = norm == Norm.LINF ? 0.15 : 0.2;
            InputRegion region = InputRegion.ball(x, eps, norm);
            Map<Integer, double[]> points = new java.util.HashMap<>();
            Map<Integer, SearchHooks.End> ends = new java.util.HashMap<>();
            Map<Integer, Integer> spent = new java.util.HashMap<>();
            SearchHooks hooks = new SearchHooks() {
                @Override public void counterexample(int i, double[] point) { assertThat(points.put(i, point)).isNull(); }

                @Override public void searched(int i, int domains, End end) {
                    ends.put(i, end);
                    spent.put(i, domains);
                }
            };
            double[] lower;
            try (Autograd.Guard g = Autograd.noGrad()) {
                lower = BranchAndBound.worstLower(net, region, spec, UNITS, settings(128, 5), 0, () -> false, hooks).toDoubleArray();
            }
            int refuted = 0;
            for (int i = 0; i < 8; i++) {
                if (ends.get(i) != SearchHooks.End.COUNTEREXAMPLE) {
                    assertThat(points).as(norm + " example " + i + ": no point told without ending on it").doesNotContainKey(i);
                    continue;
                }
                refuted++;
                double[] p = points.get(i);
                double distance = norm == Norm.LINF ? Math.max(Math.abs(p[0] - centres[i][0]), Math.abs(p[1] - centres[i][1]))
                        : Math.hypot(p[0] - centres[i][0], p[1] - centres[i][1]);
                assertThat(distance).as(norm + " example " + i + ": in the ball").isLessThanOrEqualTo(eps);
                double margin;
                try (Autograd.Guard g = Autograd.noGrad()) {
                    Tensor z = f.forward(Tensor.fromDoubles(p, 1, 2)).matmul(spec.select(0, i).t());
                    margin = z.min().item();
                }
                assertThat(margin).as(norm + " example " + i + ": a counterexample").isLessThanOrEqualTo(0);
                assertThat(lower[i]).as("the bound stays sound").isLessThanOrEqualTo(margin + 1e-9);
                assertThat(spent.get(i)).as("ended inside its budget").isLessThan(128);
                try (Autograd.Guard g = Autograd.noGrad()) {
                    BranchAndBound.Outcome full = BranchAndBound.search(net, region, spec, i, UNITS, settings(128, 5).withFalsify(false));
                    assertThat(full.lower()).as("never proved").isLessThanOrEqualTo(margin + 1e-9);
                    assertThat(full.domains()).as("the whole budget, or stuck").isEqualTo(full.stuck() ? full.domains() : 128);
                }
            }
            assertThat(refuted).as(norm + ": false properties refuted").isGreaterThanOrEqualTo(2);
        }
    }

    /**
     * m(x) = 1.9 − relu(x₁) − relu(x₂) on the ball of radius r around 0: CROWN's lines (x + r)/2 make its linear bound
     * lowest towards (1, 1), the one direction where m is negative ((1, 1) itself for ℓ∞ at r = 1: m = −0.1; r/√2·(1, 1)
     * for ℓ2 at r = 1.4: m = 1.9 − 1.4·√2 < 0); the opposite corner, and (1, −1), are far from it (1.9, 0.9). The root
     * domain's lowest point is that counterexample.
     */
    @Test
    void theCounterexampleIsWhereTheLinearBoundPoints() {
        Linear first = new Linear(2, 2), last = new Linear(2, 1);
        Module f = new Sequential(first, Activation.relu(), last).to(F64);
        f.train(false);
        BoundPropagationTest.set(first.weight().value(), 1, 0, 0, 1);
        BoundPropagationTest.set(first.bias().value(), 0, 0);
        BoundPropagationTest.set(last.weight().value(), -1, -1);
        BoundPropagationTest.set(last.bias().value(), 1.9);
        BoundedNetwork net = BoundedNetwork.of(f);
        Tensor spec = Tensor.fromDoubles(new double[]{1}, 1, 1, 1);
        for (Norm norm : Norm.values()) {
            double r = norm == Norm.LINF ? 1 : 1.4;
            InputRegion region = InputRegion.ball(Tensor.zeros(F64, Device.CPU, 1, 2), r, norm);
            double[][] told = new double[1][];
            SearchHooks.End[] end = new SearchHooks.End[1];
            SearchHooks hooks = new SearchHooks() {
                @Override public void counterexample(int i, double[] point) { told[0] = point; }

                @Override public void searched(int i, int domains, End e) { end[0] = e; }
            };
            try (Autograd.Guard g = Autograd.noGrad()) {
                BranchAndBound.worstLower(net, region, spec, UNITS, settings(64, 5), 0, () -> false, hooks);
            }
            assertThat(end[0]).as(norm.toString()).isEqualTo(SearchHooks.End.COUNTEREXAMPLE);
            double corner = norm == Norm.LINF ? 1 : 1.4 / Math.sqrt(2);
            assertThat(told[0][0]).as(norm.toString()).isCloseTo(corner, within(1e-5));
            assertThat(told[0][1]).as(norm.toString()).isCloseTo(corner, within(1e-5));
        }
    }
}
