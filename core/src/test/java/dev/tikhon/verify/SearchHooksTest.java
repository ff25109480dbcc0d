package dev.tikhon.verify;

import dev.tikhon.attack.InputDomain;
import dev.tikhon.attack.Norm;
import dev.tikhon.data.Dataset;
import dev.tikhon.engine.Autograd;
import dev.tikhon.engine.DType;
import dev.tikhon.engine.Device;
import dev.tikhon.engine.Rng;
import dev.tikhon.engine.Scope;
import dev.tikhon.engine.Tensor;
import dev.tikhon.nn.Module;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * A search asks its caller which open examples are refuted already (an attack's counterexample) and skips them, and tells
 * it the counterexamples it finds; {@link VerificationRun} attacks before it searches, so that no budget is spent on a
 * false property, and counts a confirmed counterexample of bab-input as a falsification.
 */
class SearchHooksTest {
    static final DType F64 = DType.FLOAT64;
    static final int UNITS = BoundedNetwork.DEFAULT_CROWN_UNITS;
    static final double EPS = 0.03;

    /** Twelve random 1×8×8 images in [0, 1], labelled by the model's own prediction. */
    private static Tensor[] images(Module f) {
        Rng.seed(8);
        Tensor x = Tensor.rand(F64, Device.CPU, 12, 1, 8, 8).to(f.dtype()), y;
        try (Autograd.Guard g = Autograd.noGrad()) {
            y = f.forward(x).argmax(1);
        }
        return new Tensor[]{x, y};
    }

    /**
     * Branch and bound asks once, for exactly the examples its root bound leaves open; a refuted one keeps the root's bound
     * (what a refute-everything run gives it, never above the full search's, and below it where the search raised it); one
     * not refuted gets the full search's bound, bit for bit.
     */
    @Test
    void branchAndBoundSkipsWhatTheCallerRefutes() {
        Module f = BoundPropagationTest.model("mlp", Map.of("hidden", List.of(32, 32)), 7);
        Tensor[] xy = images(f);
        InputRegion region = InputRegion.images(xy[0], EPS, Norm.LINF);
        BoundedNetwork net = BoundedNetwork.of(f);
        Tensor spec = BoundedNetwork.marginsOverOthers(xy[1], 5, xy[0]);
        BranchAndBound.Settings settings = BranchAndBound.Settings.DEFAULT.withDomains(16).withSteps(5).withRootAlphaSteps(5);
        List<int[]> asked = new ArrayList<>();
        SearchHooks everyOther = new SearchHooks() {
            @Override public boolean[] refuted(int[] open) {
                asked.add(open.clone());
                boolean[] out = new boolean[open.length];
                for (int j = 0; j < open.length; j += 2) out[j] = true;
                return out;
            }
        };
        SearchHooks all = new SearchHooks() {
            @Override public boolean[] refuted(int[] open) {
                boolean[] out = new boolean[open.length];
                Arrays.fill(out, true);
                return out;
            }
        };
        double[] full, half, root;
        try (Autograd.Guard g = Autograd.noGrad()) {
            full = BranchAndBound.worstLower(net, region, spec, UNITS, settings).toDoubleArray();
            half = BranchAndBound.worstLower(net, region, spec, UNITS, settings, 0, () -> false, everyOther).toDoubleArray();
            root = BranchAndBound.worstLower(net, region, spec, UNITS, settings, 0, () -> false, all).toDoubleArray();
        }
        assertThat(asked).hasSize(1);
        int[] open = asked.get(0);
        assertThat(open.length).as("a mix of verified and open examples").isBetween(2, 11);
        for (int i = 0; i < 12; i++) {
            boolean isOpen = contains(open, i);
            if (!isOpen) {
                assertThat(root[i]).as("example %d, verified at the root", i).isPositive().isEqualTo(full[i]);
            }
        }
        int raised = 0;
        for (int j = 0; j < open.length; j++) {
            int i = open[j];
            assertThat(root[i]).as("example %d: open at the root", i).isLessThanOrEqualTo(0).isLessThanOrEqualTo(full[i]);
            if (j % 2 == 0) {
                assertThat(half[i]).as("example %d refuted: the root's bound", i).isEqualTo(root[i]);
            } else {
                assertThat(half[i]).as("example %d searched: the full search's bound", i).isEqualTo(full[i]);
            }
            if (full[i] > root[i]) raised++;
        }
        assertThat(raised).as("examples whose search raised the root's bound (what skipping saves)").isPositive();
    }

    private static boolean contains(int[] a, int v) { return Arrays.stream(a).anyMatch(w -> w == v); }

    /**
     * Input splitting tells each counterexample it finds: a point of the example's box at which some margin is ≤ the
     * threshold (checked by a forward pass); a property it proves gives none; an example the caller refutes is not searched
     * (no counterexample told for it) and keeps CROWN's bound on the box.
     */
    @Test
    void inputSplittingTellsItsCounterexamplesAndSkipsWhatIsRefuted() {
        Module f = InputSplittingTest.network(3, "relu");
        Rng.seed(4);
        Tensor x = Tensor.rand(F64, Device.CPU, 16, 2).mul(2).sub(1), y;
        try (Autograd.Guard g = Autograd.noGrad()) {
            y = f.forward(x).argmax(1);
        }
        double eps = 0.3;
        BoundedNetwork net = BoundedNetwork.of(f);
        Tensor spec = BoundedNetwork.marginsOverOthers(y, 2, x);
        InputSplitting.Settings settings = InputSplitting.Settings.DEFAULT.withDomains(256);
        List<Integer> told = new ArrayList<>();
        List<int[]> asked = new ArrayList<>();
        double[] lower = InputDomain.within(InputDomain.UNBOUNDED, () -> {
            InputRegion region = InputRegion.inDomain(x, Verification.full(x, eps), Norm.LINF);
            return InputSplitting.worstLower(net, region, spec, settings, 0, () -> false, new SearchHooks() {
                @Override public boolean[] refuted(int[] open) {
                    asked.add(open.clone());
                    return new boolean[open.length];
                }

                @Override public void counterexample(int i, double[] point) {
                    told.add(i);
                    double[] x0 = x.narrow(0, i, 1).flatten(0, -1).toDoubleArray();
                    for (int d = 0; d < 2; d++) assertThat(Math.abs(point[d] - x0[d])).as("example %d: in the box", i).isLessThanOrEqualTo(eps + 1e-12);
                    try (Scope s = Scope.open(); Autograd.Guard g = Autograd.noGrad()) {
                        double m = f.forward(Tensor.fromDoubles(point, 1, 2)).matmul(spec.select(0, i).t()).min().item();
                        assertThat(m).as("example %d: a margin ≤ 0 at the point", i).isLessThanOrEqualTo(0);
                    }
                }
            }).toDoubleArray();
        });
        assertThat(asked).hasSize(1);
        assertThat(told).as("some properties are false at ε %s", eps).isNotEmpty();
        for (int i : told) assertThat(lower[i]).as("example %d has a counterexample: not proved", i).isLessThanOrEqualTo(0);
        assertThat(Arrays.stream(lower).filter(v -> v > 0).count()).as("some are proved").isPositive();
        for (int i = 0; i < 16; i++) {
            if (lower[i] <= 0) assertThat(told).as("example %d, not proved within 256 sub-boxes of a ReLU net in 2-D", i).contains(i);
        }
        // refuted: not searched, CROWN's bound on the box
        List<Integer> toldAgain = new ArrayList<>();
        double[] skipped = InputDomain.within(InputDomain.UNBOUNDED, () -> {
            InputRegion region = InputRegion.inDomain(x, Verification.full(x, eps), Norm.LINF);
            return InputSplitting.worstLower(net, region, spec, settings, 0, () -> false, new SearchHooks() {
                @Override public boolean[] refuted(int[] open) {
                    boolean[] out = new boolean[open.length];
                    Arrays.fill(out, true);
                    return out;
                }

                @Override public void counterexample(int i, double[] point) { toldAgain.add(i); }
            }).toDoubleArray();
        });
        double[] crown;
        try (Scope s = Scope.open(); Autograd.Guard g = Autograd.noGrad()) {
            crown = net.crownLower(InputRegion.ball(x, eps, Norm.LINF), spec, UNITS, LowerSlope.ADAPTIVE).minWithIndex(1)[0].toDoubleArray();
        }
        for (int i : asked.get(0)) assertThat(skipped[i]).as("example %d", i).isEqualTo(crown[i]).isLessThanOrEqualTo(lower[i]);
        assertThat(toldAgain).as("only what was asked about is skipped; the misclassified centres are searched").isSubsetOf(told);
    }

    /**
     * verify with bab and the attack: the attack runs before the search, on what the root leaves open, and what it breaks
     * is not searched. Against the same run with --attack-all (every image searched and attacked): the same images verified
     * by each method, the same CROWN bounds, bab's bound unchanged where it searched and the root's (never higher) where the
     * attack broke the image first, which happens at least once; no image verified and broken.
     */
    @Test
    void verificationAttacksBeforeItSearches() {
        Module f = BoundPropagationTest.model("mlp", Map.of("hidden", List.of(32, 32)), 7).to(DType.FLOAT32);
        Tensor[] xy = images(f);
        Tensor pixels = xy[0].mul(255).round().to(DType.UINT8);
        Tensor labels;
        try (Autograd.Guard g = Autograd.noGrad()) {   // the model's prediction on the images as stored: all correct
            labels = f.forward(pixels.to(DType.FLOAT32).div(255.0)).argmax(1);
        }
        Dataset set = new Dataset("random", "test", pixels, labels, 5, List.of("a", "b", "c", "d", "e"));
        List<Verification.Method> methods = List.of(Verification.Method.CROWN, Verification.Method.BAB);
        VerificationRun.Result first = VerificationRun.run(f, set, settings(methods, false), Device.CPU, null);
        List<String> status = new ArrayList<>();
        VerificationRun.Result all = VerificationRun.run(f, set, settings(methods, true), Device.CPU, null, status::add);
        int skipped = 0;
        for (int i = 0; i < 12; i++) {
            VerificationRun.Row a = first.rows().get(i), b = all.rows().get(i);
            assertThat(a.margin()[0][0]).as("image %d: CROWN", i).isEqualTo(b.margin()[0][0]);
            assertThat(a.verified(1, 0)).as("image %d: bab's verdict", i).isEqualTo(b.verified(1, 0));
            assertThat(a.margin()[1][0]).as("image %d: bab's bound", i).isLessThanOrEqualTo(b.margin()[1][0]);
            if (a.margin()[1][0] < b.margin()[1][0]) {
                assertThat(a.broken()[0]).as("image %d: a lower bound only where the attack broke it first", i).isTrue();
                skipped++;
            }
            if (!a.broken()[0]) assertThat(a.margin()[1][0]).as("image %d: searched", i).isEqualTo(b.margin()[1][0]);
        }
        assertThat(skipped).as("images broken by the attack, not searched").isPositive();
        // how each search ended: "attacked first" exactly where the attack broke an image the root left open
        long first_ = 0;
        for (int i = 0; i < 12; i++) {
            VerificationRun.Row a = first.rows().get(i), b = all.rows().get(i);
            assertThat(a.searchEnd(0, 0)).as("CROWN does not search").isNull();
            String end = a.searchEnd(1, 0);
            if (end.equals("attacked first")) {
                first_++;
                assertThat(a.broken()[0]).isTrue();
                assertThat(a.domains()[1][0]).isZero();
                assertThat(b.searchEnd(1, 0)).as("image %d: searched under --attack-all", i).isIn("budget", "stuck", "counterexample");
            } else {
                assertThat(end).as("image %d", i).isEqualTo(b.searchEnd(1, 0));
            }
            assertThat(b.searchEnd(1, 0)).isNotEqualTo("attacked first");
            if (b.searchEnd(1, 0).equals("root")) assertThat(b.domains()[1][0]).isZero();
            else {
                assertThat(b.domains()[1][0]).as("image %d: domains of its search", i).isBetween(1, 16);
                // the status line after its last batch: its domains, and a bound at most the one it ends with
                String last = "bab ε 0.03: image " + i + ", " + b.domains()[1][0] + " domains, bound ";
                assertThat(status).as("image %d", i).anyMatch(line -> line.startsWith(last)
                        && Double.parseDouble(line.substring(last.length())) <= b.margin()[1][0] + 1e-4 * Math.abs(b.margin()[1][0]));
                assertThat(status).as("image %d", i).contains("bab ε 0.03: image " + i + " " + b.searchEnd(1, 0) + " after " + b.domains()[1][0] + " domains");
            }
            assertThat(b.searchEnd(1, 0).equals("proved")).as("image %d", i).isEqualTo(b.verified(1, 0) && b.domains()[1][0] > 0);
        }
        assertThat(first_).isGreaterThanOrEqualTo(skipped);
        assertThat(status).as("cleared after the batch").last().isEqualTo("");
        assertThat(first.violations(0)).isZero();
        assertThat(all.violations(0)).isZero();
        assertThat(first.rows().stream().filter(r -> r.broken()[0]).count()).as("falsified").isPositive();
    }

    private static VerificationRun.Settings settings(List<Verification.Method> methods, boolean attackAll) {
        return new VerificationRun.Settings(methods, Norm.LINF, new double[]{EPS}, 12, true, attackAll, 10, 1, 2, 50, 0, 0, 0,
                BranchAndBound.Settings.DEFAULT.withDomains(16));
    }
}
