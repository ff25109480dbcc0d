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
import dev.tikhon.nn.Linear;
import dev.tikhon.nn.Module;
import dev.tikhon.nn.Sequential;
import org.junit.jupiter.api.Test;

import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Oracles for input splitting's search of many examples at once ({@link InputSplitting#worstLower}): seeded 2-16-16-3
 * networks, random ℓ∞ boxes of radius 0.25 in [−1, 1]², each labelled by the network at its centre (so each example
 * has its own two margin rows). Per example: the bound is never above a 101 × 101 grid's minimum of its own margins over
 * its own box (soundness: a box bounded with another example's rows breaks it), it proves exactly the examples that
 * {@link InputSplitting#search} proves on that example alone, the domains it reports stay within the budget, and a
 * counterexample of one example ends that example's search only.
 */
class InputSplittingManyTest {
    static final DType F64 = DType.FLOAT64;
    static final int N = 24, CLASSES = 3, GRID = 101;
    static final double EPS = 0.75;

    /** A seeded random 2-16-16-3 network in float64, in evaluation mode. */
    static Sequential network(long seed, String activation) {
        Rng.seed(seed);
        Sequential f = new Sequential(new Linear(2, 16), Activation.parse(activation), new Linear(16, 16), Activation.parse(activation),
                new Linear(16, CLASSES));
        f.to(F64);
        f.train(false);
        return f;
    }

    /** N seeded centres in [−0.8, 0.8]² and the network's class at each. */
    static Tensor[] examples(Module f, long seed) {
        Rng.seed(seed);
        Tensor x = Tensor.rand(F64, Device.CPU, N, 2).mul(8).sub(4), y;
        try (Autograd.Guard g = Autograd.noGrad()) {
            y = f.forward(x).argmax(1);
        }
        return new Tensor[]{x, y};
    }

    /** The minimum over a GRID × GRID grid of [lo, hi] (2-D, flat) of the smallest of {@code rows} ([S, classes]) · z. */
    static double gridMinimum(Module f, double[] lo, double[] hi, Tensor rows) {
        double[] xy = new double[2 * GRID * GRID];
        for (int i = 0; i < GRID; i++) {
            for (int j = 0; j < GRID; j++) {
                xy[2 * (i * GRID + j)] = lo[0] + (hi[0] - lo[0]) * i / (GRID - 1);
                xy[2 * (i * GRID + j) + 1] = lo[1] + (hi[1] - lo[1]) * j / (GRID - 1);
            }
        }
        try (Scope s = Scope.open(); Autograd.Guard g = Autograd.noGrad()) {
            return f.forward(Tensor.fromDoubles(xy, (long) GRID * GRID, 2)).matmul(rows.t()).min().item();
        }
    }

    /** What the hooks heard of one run of {@link InputSplitting#worstLower}. */
    record Run(double[] lower, Map<Integer, Integer> domains, Map<Integer, SearchHooks.End> ends, Map<Integer, double[]> counterexamples,
               int batches) {}

    static Run together(BoundedNetwork net, Tensor x, Tensor spec, InputSplitting.Settings settings) {
        return together(net, x, spec, settings, InputSplitting.OPEN_VALUES);
    }

    static Run together(BoundedNetwork net, Tensor x, Tensor spec, InputSplitting.Settings settings, long openValues) {
        Map<Integer, Integer> domains = new HashMap<>();
        Map<Integer, SearchHooks.End> ends = new HashMap<>();
        Map<Integer, double[]> points = new HashMap<>();
        AtomicInteger asked = new AtomicInteger();
        double[] lower = InputDomain.within(InputDomain.UNBOUNDED, () -> {
            InputRegion region = InputRegion.inDomain(x, Verification.full(x, EPS), Norm.LINF);
            return InputSplitting.worstLower(net, region, spec, settings, 0, () -> asked.incrementAndGet() < 0, new SearchHooks() {
                @Override public void counterexample(int i, double[] point) {
                    assertThat(points.put(i, point)).as("example %d: told once", i).isNull();
                }

                @Override public void searched(int i, int spent, End end) {
                    assertThat(ends.put(i, end)).as("example %d: searched once", i).isNull();
                    domains.put(i, spent);
                }
            }, openValues).toDoubleArray();
        });
        return new Run(lower, domains, ends, points, asked.get());
    }

    static double[] row(Tensor t, int i) { return t.narrow(0, i, 1).flatten(0, -1).toDoubleArray(); }

    /**
     * ReLU and tanh networks, 2 seeds each, 24 examples searched together with a budget of 256 each: per example the bound
     * is sound against its own box's grid, it is proved exactly where searching it alone proves it, every example not
     * proved ends at a counterexample (in its box, a margin ≤ 0 there), the domains stay within the budget, and the
     * batches are fewer than those of searching the open examples one at a time.
     */
    @Test
    void manyExamplesTogetherAreSoundAndProveWhatEachAloneProves() {
        InputSplitting.Settings settings = InputSplitting.Settings.DEFAULT.withDomains(256);
        int proved = 0, refuted = 0, searchedProved = 0, together = 0, separately = 0;
        for (String activation : List.of("relu", "tanh")) {
            for (long seed = 1; seed <= 2; seed++) {
                Module f = network(seed, activation);
                BoundedNetwork net = BoundedNetwork.of(f);
                Tensor[] xy = examples(f, 40 + seed);
                Tensor x = xy[0], spec = BoundedNetwork.marginsOverOthers(xy[1], CLASSES, x);
                Run run = together(net, x, spec, settings);
                Run oneByOne = together(net, x, spec, settings, 1);   // one example takes boxes at a time, after the roots
                int aloneBatches = 0;
                for (int i = 0; i < N; i++) {
                    String what = activation + " seed " + seed + " example " + i;
                    double[] c = row(x, i), lo = {c[0] - EPS, c[1] - EPS}, hi = {c[0] + EPS, c[1] + EPS};
                    Tensor rows = spec.select(0, i);
                    double grid = gridMinimum(f, lo, hi, rows);
                    assertThat(run.lower()[i]).as(what + ": never above its own box's grid minimum").isLessThanOrEqualTo(grid + 1e-12);
                    AtomicInteger asked = new AtomicInteger();
                    InputSplitting.Outcome alone = InputSplitting.search(net, Tensor.fromDoubles(lo, 1, 2), Tensor.fromDoubles(hi, 1, 2),
                            spec.narrow(0, i, 1), new double[]{0, 0}, InputSplitting.Goal.ALL, settings, () -> asked.incrementAndGet() < 0);
                    boolean verified = run.lower()[i] > 0;
                    assertThat(verified).as(what + ": proved together as alone (alone: " + alone.rows()[0] + ", " + alone.rows()[1]
                            + "; together " + run.lower()[i] + ")").isEqualTo(alone.proved());
                    if (verified) proved++;
                    if (!run.ends().containsKey(i)) {   // proved at the root: not searched
                        assertThat(verified).as(what + ": not searched, so proved at the root").isTrue();
                        assertThat(alone.domains()).as(what + ": alone, proved by its root").isEqualTo(1);
                        continue;
                    }
                    aloneBatches += asked.get() - 1;
                    assertThat(run.domains().get(i)).as(what + ": within the budget").isBetween(1, 256);
                    assertThat(oneByOne.ends().get(i)).as(what + ": one at a time").isEqualTo(run.ends().get(i));
                    assertThat(oneByOne.domains().get(i)).as(what + ": one at a time, as alone").isEqualTo(alone.domains());
                    assertThat(oneByOne.lower()[i] > 0).isEqualTo(verified);
                    if (verified) {
                        assertThat(run.ends().get(i)).isEqualTo(SearchHooks.End.PROVED);
                        searchedProved++;
                        continue;
                    }
                    assertThat(run.ends().get(i)).as(what + ": not proved, so refuted").isEqualTo(SearchHooks.End.COUNTEREXAMPLE);
                    double[] p = run.counterexamples().get(i);
                    assertThat(p).as(what).isNotNull();
                    for (int d = 0; d < 2; d++) assertThat(p[d]).as(what + ": in its box").isBetween(lo[d], hi[d]);
                    assertThat(gridMinimum(f, p, p, rows)).as(what + ": a margin ≤ 0 at the point").isLessThanOrEqualTo(0);
                    assertThat(alone.counterexample()).as(what + ": alone, refuted too").isNotNull();
                    refuted++;
                }
                System.out.printf("input splitting, %s seed %d: %d batches after the roots' together, %d after each root alone%n", activation, seed,
                        run.batches(), aloneBatches);
                together += run.batches();
                separately += aloneBatches;
            }
        }
        assertThat(proved).as("examples proved").isPositive();
        assertThat(searchedProved).as("examples proved by the search, not at the root").isPositive();
        assertThat(refuted).as("examples refuted by a counterexample").isPositive();
        assertThat(together).as("batches after the roots' together, against those after each root alone").isLessThan(separately);
    }

    /**
     * A budget of 8 domains per example: every searched example reports at most 8 (budget, proof or counterexample), and
     * each bound stays sound and at most the one a budget of 256 reaches, where that one's search proved it.
     */
    @Test
    void eachExampleKeepsItsOwnBudget() {
        Module f = network(1, "relu");
        BoundedNetwork net = BoundedNetwork.of(f);
        Tensor[] xy = examples(f, 41);
        Tensor x = xy[0], spec = BoundedNetwork.marginsOverOthers(xy[1], CLASSES, x);
        Run small = together(net, x, spec, InputSplitting.Settings.DEFAULT.withDomains(8));
        int budget = 0;
        for (int i : small.ends().keySet()) {
            assertThat(small.domains().get(i)).as("example %d", i).isBetween(1, 8);
            if (small.ends().get(i) == SearchHooks.End.BUDGET) {
                assertThat(small.domains().get(i)).isEqualTo(8);
                budget++;
            }
        }
        assertThat(budget).as("examples whose budget ran out").isPositive();
        for (int i = 0; i < N; i++) {
            double[] c = row(x, i);
            double grid = gridMinimum(f, new double[]{c[0] - EPS, c[1] - EPS}, new double[]{c[0] + EPS, c[1] + EPS}, spec.select(0, i));
            assertThat(small.lower()[i]).as("example %d", i).isLessThanOrEqualTo(grid + 1e-12);
        }
    }

    /**
     * A counterexample ends its own example's search only: example 0 labelled against the network's class at its centre
     * (refuted by the root's first point) does not stop example 1, whose property needs a search to prove it.
     */
    @Test
    void aCounterexampleEndsItsOwnExampleOnly() {
        Module f = network(1, "relu");
        BoundedNetwork net = BoundedNetwork.of(f);
        Tensor[] xy = examples(f, 41);
        Tensor spec = BoundedNetwork.marginsOverOthers(xy[1], CLASSES, xy[0]);
        int hard = -1;   // an example that searching it alone proves, not at its root
        InputSplitting.Outcome alone = null;
        for (int i = 0; i < N && hard < 0; i++) {
            double[] c = row(xy[0], i);
            alone = InputSplitting.search(net, Tensor.fromDoubles(new double[]{c[0] - EPS, c[1] - EPS}, 1, 2),
                    Tensor.fromDoubles(new double[]{c[0] + EPS, c[1] + EPS}, 1, 2), spec.narrow(0, i, 1), new double[]{0, 0},
                    InputSplitting.Goal.ALL, InputSplitting.Settings.DEFAULT, () -> false);
            if (alone.proved() && alone.domains() > 1) hard = i;
        }
        assertThat(hard).as("an example the search proves").isNotNegative();
        long[] y = xy[1].toLongArray();
        int wrong = (int) ((y[hard] + 1) % CLASSES);
        Tensor x = Tensor.cat(List.of(xy[0].narrow(0, hard, 1), xy[0].narrow(0, hard, 1)), 0);
        Tensor labels = Tensor.fromLongs(new long[]{wrong, y[hard]}, 2);
        Run run = together(net, x, BoundedNetwork.marginsOverOthers(labels, CLASSES, x), InputSplitting.Settings.DEFAULT);
        assertThat(run.ends().get(0)).as("the wrong label").isEqualTo(SearchHooks.End.COUNTEREXAMPLE);
        assertThat(run.domains().get(0)).as("refuted by its root's points").isEqualTo(1);
        assertThat(run.counterexamples()).containsOnlyKeys(0);
        assertThat(run.ends().get(1)).as("the true label, searched on").isEqualTo(SearchHooks.End.PROVED);
        assertThat(run.domains().get(1)).as("searched on as alone").isEqualTo(alone.domains());
        assertThat(run.lower()[1]).isPositive();
        assertThat(run.lower()[0]).isLessThanOrEqualTo(0);
    }

    /**
     * The stop hook on from the start: the roots are still bounded (one batch), and each open example's search is its root
     * alone (1 domain; stopped, or refuted by its root's points), its bound the root's.
     */
    @Test
    void aStopHookOnFromTheStartLeavesTheRoots() {
        Module f = network(1, "relu");
        BoundedNetwork net = BoundedNetwork.of(f);
        Tensor[] xy = examples(f, 41);
        Tensor spec = BoundedNetwork.marginsOverOthers(xy[1], CLASSES, xy[0]);
        Map<Integer, SearchHooks.End> ends = new HashMap<>();
        Map<Integer, Integer> spent = new HashMap<>();
        double[] lower = InputDomain.within(InputDomain.UNBOUNDED, () -> {
            InputRegion region = InputRegion.inDomain(xy[0], Verification.full(xy[0], EPS), Norm.LINF);
            return InputSplitting.worstLower(net, region, spec, InputSplitting.Settings.DEFAULT, 0, () -> true, new SearchHooks() {
                @Override public void searched(int i, int domains, End end) {
                    ends.put(i, end);
                    spent.put(i, domains);
                }
            }).toDoubleArray();
        });
        Run root = together(net, xy[0], spec, InputSplitting.Settings.DEFAULT.withDomains(1));
        assertThat(ends).as("the open examples").isNotEmpty();
        for (int i = 0; i < N; i++) {
            assertThat(lower[i]).as("example %d: the root's bound", i).isEqualTo(root.lower()[i]);
            if (!ends.containsKey(i)) continue;
            assertThat(spent.get(i)).isEqualTo(1);
            assertThat(ends.get(i)).isIn(SearchHooks.End.STOPPED, SearchHooks.End.COUNTEREXAMPLE);
        }
    }
}
