package dev.tikhon.vnnlib;

import dev.tikhon.engine.DType;
import dev.tikhon.engine.Rng;
import dev.tikhon.engine.Scope;
import dev.tikhon.engine.Tensor;
import dev.tikhon.nn.Activation;
import dev.tikhon.nn.Init;
import dev.tikhon.nn.Linear;
import dev.tikhon.nn.Module;
import dev.tikhon.nn.Sequential;
import dev.tikhon.onnx.OnnxExport;
import dev.tikhon.onnx.OnnxImport;
import dev.tikhon.verify.Verification;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.List;
import java.util.Random;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * End to end on a small ReLU network exported to ONNX by Tikhon and imported back: robustness properties proved (and
 * checked by sampling), a false property falsified with a counterexample that a forward pass confirms, and soundness over
 * random boxes (an "unsat" is never contradicted by 300 sampled points).
 */
class VnnLibCheckTest {
    static final int CLASSES = 3;
    @TempDir static Path dir;
    static Module net;
    static Path onnx;

    @BeforeAll
    static void network() {
        Rng.seed(7);
        Module m = new Sequential(new Linear(2, 16), Activation.relu(), new Linear(16, 16), Activation.relu(), new Linear(16, CLASSES));
        Init.apply(m, Init.STANDARD, false);
        onnx = dir.resolve("net.onnx");
        OnnxExport.write(m, List.of(2L), onnx);
        net = OnnxImport.load(onnx).model();
        net.train(false);
    }

    /** The robustness property's unsafe set around x at radius eps: some other class scores at least the label's. */
    static String robustness(double[] x, double eps, int label) {
        StringBuilder s = new StringBuilder("; robustness of class " + label + "\n");
        for (int i = 0; i < x.length; i++) s.append("(declare-const X_").append(i).append(" Real)\n");
        for (int j = 0; j < CLASSES; j++) s.append("(declare-const Y_").append(j).append(" Real)\n");
        for (int i = 0; i < x.length; i++) {
            s.append("(assert (>= X_").append(i).append(' ').append(x[i] - eps).append("))\n");
            s.append("(assert (<= X_").append(i).append(' ').append(x[i] + eps).append("))\n");
        }
        s.append("(assert (or");
        for (int j = 0; j < CLASSES; j++) if (j != label) s.append("\n  (and (>= Y_").append(j).append(" Y_").append(label).append("))");
        return s.append("))\n").toString();
    }

    /** The same with a constant: the unsafe set "Y_j ≥ Y_label + d" for some j ≠ label (d written as a decimal). */
    static String robustness(double[] x, double eps, int label, double d) {
        return robustness(x, eps, label).replaceAll("\\(>= Y_(\\d) Y_(\\d)\\)", "(>= Y_$1 (+ Y_$2 " + d + "))");
    }

    static double[][] outputs(double[][] xs) {
        try (Scope s = Scope.open()) {
            double[] flat = new double[xs.length * 2];
            for (int i = 0; i < xs.length; i++) System.arraycopy(xs[i], 0, flat, 2 * i, 2);
            double[] y = net.forward(Tensor.fromDoubles(flat, xs.length, 2).to(net.dtype())).to(DType.FLOAT64).flatten(0, -1).toDoubleArray();
            double[][] out = new double[xs.length][];
            for (int i = 0; i < xs.length; i++) out[i] = java.util.Arrays.copyOfRange(y, i * CLASSES, (i + 1) * CLASSES);
            return out;
        }
    }

    static int argmax(double[] v) {
        int b = 0;
        for (int i = 1; i < v.length; i++) if (v[i] > v[b]) b = i;
        return b;
    }

    /** Whether y satisfies every constraint of some case whose box holds x: a violation of the property. */
    static boolean unsafe(VnnLib.Property p, double[] x, double[] y) {
        for (VnnLib.Case c : p.cases()) {
            boolean in = true;
            for (int i = 0; i < x.length; i++) in &= x[i] >= c.lo()[i] && x[i] <= c.hi()[i];
            if (in && c.constraints().stream().allMatch(g -> g.value(y) >= 0)) return true;
        }
        return false;
    }

    static double[][] samples(double[] x, double eps, int n, Random rng) {
        double[][] out = new double[n][2];
        for (int k = 0; k < n; k++) for (int i = 0; i < 2; i++) out[k][i] = x[i] - eps + 2 * eps * rng.nextDouble();
        return out;
    }

    @Test
    void crownProvesASmallBallAndSamplesAgree() {
        double[] x = {0.3, -0.2};
        int label = argmax(outputs(new double[][]{x})[0]);
        VnnLib.Property p = VnnLib.parse(robustness(x, 0.01, label), "rob.vnnlib");
        assertThat(p.cases()).hasSize(CLASSES - 1);
        VnnLibCheck.Result r = new VnnLibCheck(net, new long[]{2}, false).run(p, List.of(Verification.Method.CROWN), 50, 0);
        assertThat(r.verdict()).isEqualTo(VnnLibCheck.Verdict.UNSAT);
        assertThat(r.refuted(Verification.Method.CROWN)).isEqualTo(CLASSES - 1);
        double[][] xs = samples(x, 0.01, 300, new Random(1));
        double[][] ys = outputs(xs);
        for (int k = 0; k < xs.length; k++) assertThat(unsafe(p, xs[k], ys[k])).isFalse();
    }

    @Test
    void aFalsePropertyGetsACounterexampleInTheBoxThatViolatesIt() {
        // a big box: the class changes inside it (sampling finds a point of another class first)
        double[] x = {0.0, 0.0};
        double eps = 3;
        int label = argmax(outputs(new double[][]{x})[0]);
        double[][] xs = samples(x, eps, 2000, new Random(2));
        double[][] ys = outputs(xs);
        boolean changes = false;
        for (double[] y : ys) changes |= argmax(y) != label;
        assertThat(changes).as("the fixture network changes class in the box").isTrue();
        VnnLib.Property p = VnnLib.parse(robustness(x, eps, label), "false.vnnlib");
        for (boolean rounding : new boolean[]{false, true}) {
            Module m = rounding ? OnnxImport.load(onnx).model().to(DType.FLOAT64) : net;
            m.train(false);
            VnnLibCheck check = new VnnLibCheck(m, new long[]{2}, rounding);
            VnnLibCheck.Result r = check.run(p, List.of(Verification.Method.IBP, Verification.Method.CROWN), 100, 3);
            assertThat(r.verdict()).isEqualTo(VnnLibCheck.Verdict.SAT);
            VnnLib.Case c = p.cases().get(r.counterexampleCase());
            for (int i = 0; i < 2; i++) assertThat(r.x()[i]).isBetween(c.lo()[i], c.hi()[i]);
            double[] y = check.forward(r.x());
            assertThat(y).containsExactly(r.y());
            assertThat(unsafe(p, r.x(), y)).isTrue();
            assertThat(argmax(y)).isNotEqualTo(label);
        }
    }

    @Test
    void anUnsatIsNeverContradictedBySampledPoints() {
        Random rng = new Random(11);
        int unsat = 0, sat = 0;
        for (int t = 0; t < 30; t++) {
            double[] x = {rng.nextDouble() * 4 - 2, rng.nextDouble() * 4 - 2};
            double eps = 0.02 + rng.nextDouble() * 0.4;
            int label = argmax(outputs(new double[][]{x})[0]);
            VnnLib.Property p = VnnLib.parse(robustness(x, eps, label), "random.vnnlib");
            Verification.Method m = List.of(Verification.Method.IBP, Verification.Method.CROWN, Verification.Method.ALPHA_CROWN).get(t % 3);
            VnnLibCheck.Result r = new VnnLibCheck(net, new long[]{2}, false).run(p, List.of(m), 30, t);
            if (r.verdict() == VnnLibCheck.Verdict.UNSAT) {
                unsat++;
                double[][] xs = samples(x, eps, 300, new Random(t));
                double[][] ys = outputs(xs);
                for (int k = 0; k < xs.length; k++) assertThat(unsafe(p, xs[k], ys[k])).as("box %d, sample %d", t, k).isFalse();
            } else if (r.verdict() == VnnLibCheck.Verdict.SAT) {
                sat++;
                assertThat(unsafe(p, r.x(), outputs(new double[][]{r.x()})[0])).isTrue();
            }
        }
        assertThat(unsat).as("some boxes proved").isGreaterThan(3);
        assertThat(sat).as("some boxes falsified").isGreaterThan(0);
    }

    /**
     * Input splitting (bab-input) on random boxes, too wide for most to be decided by bounds alone: it proves some that IBP,
     * CROWN and α-CROWN leave open, every "unsat" holds at 300 sampled points (also with rounding accounted), and where it runs
     * before the attack (no cascade) the counterexamples it finds are its own, in the box, and confirmed by a forward pass.
     */
    @Test
    void inputSplittingProvesWhatBoundsLeaveAndFindsCounterexamples() {
        Random rng = new Random(31);
        int provedOnlyBySplitting = 0, satBySplitting = 0;
        Module m64 = OnnxImport.load(onnx).model().to(DType.FLOAT64);
        m64.train(false);
        for (int t = 0; t < 16; t++) {
            double[] x = {rng.nextDouble() * 4 - 2, rng.nextDouble() * 4 - 2};
            double eps = 0.2 + rng.nextDouble() * 0.5;
            int label = argmax(outputs(new double[][]{x})[0]);
            VnnLib.Property p = VnnLib.parse(robustness(x, eps, label), "random.vnnlib");
            VnnLibCheck.Result bounds = new VnnLibCheck(net, new long[]{2}, false).run(p, THREE, 0, t);
            boolean rounding = t % 4 == 0;
            VnnLibCheck.Result split = new VnnLibCheck(rounding ? m64 : net, new long[]{2}, rounding).run(p, List.of(Verification.Method.BAB_INPUT), 0, t,
                    VnnLibCheck.Options.DEFAULT.withCascade(false));
            if (split.verdict() == VnnLibCheck.Verdict.UNSAT) {
                if (bounds.verdict() != VnnLibCheck.Verdict.UNSAT) provedOnlyBySplitting++;
                assertThat(split.refuted(Verification.Method.BAB_INPUT)).isEqualTo(split.given(Verification.Method.BAB_INPUT));
                double[][] xs = samples(x, eps, 300, new Random(t));
                double[][] ys = outputs(xs);
                for (int k = 0; k < xs.length; k++) assertThat(unsafe(p, xs[k], ys[k])).as("box %d, sample %d", t, k).isFalse();
            } else {
                assertThat(split.verdict()).as("box %d: a complete search decides a 2-D box", t).isEqualTo(VnnLibCheck.Verdict.SAT);
                assertThat(bounds.verdict()).isNotEqualTo(VnnLibCheck.Verdict.UNSAT);
                if (split.attackSeconds() == 0) satBySplitting++;   // found by the search's own points, before any attack
                VnnLib.Case c = p.cases().get(split.counterexampleCase());
                for (int i = 0; i < 2; i++) assertThat(split.x()[i]).isBetween(c.lo()[i], c.hi()[i]);
                assertThat(unsafe(p, split.x(), outputs(new double[][]{split.x()})[0])).isTrue();
            }
        }
        assertThat(provedOnlyBySplitting).as("boxes proved by input splitting, not by ibp, crown, alpha-crown").isPositive();
        assertThat(satBySplitting).as("counterexamples found by input splitting itself").isPositive();
    }

    /**
     * A case refuted by two constraints together, each on part of the box (input splitting's disjunction per sub-box): with
     * Y = (X_0, −X_0, 0) on [−1, 1]², "Y_0 − Y_1 ≤ −0.5 and Y_1 − Y_0 ≤ −0.5" is impossible, but neither atom alone is
     * refuted on the box (Y_0 − Y_1 = 2·X_0 takes every value in [−2, 2]); each half of the split at X_0 = 0 refutes one.
     */
    @Test
    void aCaseRefutedByDifferentConstraintsOnDifferentSubBoxes() {
        Linear layer = new Linear(2, CLASSES);
        try (dev.tikhon.engine.Autograd.Guard g = dev.tikhon.engine.Autograd.noGrad()) {
            layer.weight().value().copy_(Tensor.fromDoubles(new double[]{1, 0, -1, 0, 0, 0}, CLASSES, 2));
            layer.bias().value().copy_(Tensor.zeros(CLASSES));
        }
        Module m = new Sequential(layer);
        m.train(false);
        String text = "(declare-const X_0 Real)\n(declare-const X_1 Real)\n(declare-const Y_0 Real)\n(declare-const Y_1 Real)\n"
                + "(declare-const Y_2 Real)\n(assert (>= X_0 -1))\n(assert (<= X_0 1))\n(assert (>= X_1 -1))\n(assert (<= X_1 1))\n"
                + "(assert (<= (- Y_0 Y_1) -0.5))\n(assert (<= (- Y_1 Y_0) -0.5))\n";
        VnnLib.Property p = VnnLib.parse(text, "both.vnnlib");
        VnnLibCheck.Result alone = new VnnLibCheck(m, new long[]{2}, false).run(p, List.of(Verification.Method.BAB), 0, 0);
        assertThat(alone.verdict()).as("one constraint at a time (ReLU splitting has none to split)").isEqualTo(VnnLibCheck.Verdict.UNKNOWN);
        VnnLibCheck.Result r = new VnnLibCheck(m, new long[]{2}, false).run(p, List.of(Verification.Method.BAB_INPUT), 0, 0);
        assertThat(r.verdict()).isEqualTo(VnnLibCheck.Verdict.UNSAT);
        assertThat(r.cases().get(0).refutedBy().get(Verification.Method.BAB_INPUT)).isEqualTo(VnnLibCheck.BY_SEVERAL);
        // per atom L − d with L a sound lower bound of −c·Y over the whole box: Y_0 − Y_1 ≥ −2 there (its minimum), d = −0.5
        assertThat(r.cases().get(0).margins().get(Verification.Method.BAB_INPUT)).containsExactly(new double[]{-1.5, -1.5},
                org.assertj.core.data.Offset.offset(1e-6));
    }

    @Test
    void aBoxThatIsABallIsBoundedAsTheBall() {
        try (Scope s = Scope.open()) {
            Tensor x = Tensor.fromDoubles(new double[]{0.3, -0.2, 1.0, 0.5}, 2, 2).to(net.dtype());
            dev.tikhon.verify.BoundedNetwork b = dev.tikhon.verify.BoundedNetwork.of(net);
            Tensor spec = dev.tikhon.verify.BoundedNetwork.margins(Tensor.fromLongs(new long[]{0, 1}, 2), CLASSES, x);
            dev.tikhon.verify.InputRegion ball = dev.tikhon.verify.InputRegion.ball(x, 0.1, dev.tikhon.attack.Norm.LINF);
            dev.tikhon.verify.InputRegion box = dev.tikhon.verify.InputRegion.box(x.sub(0.1), x.add(0.1));
            assertThat(box.eps().toDoubleArray()[0]).isGreaterThanOrEqualTo(0.1);
            double[] a = b.crownLower(ball, spec, 64, dev.tikhon.verify.LowerSlope.ADAPTIVE).to(DType.FLOAT64).flatten(0, -1).toDoubleArray();
            double[] c = b.crownLower(box, spec, 64, dev.tikhon.verify.LowerSlope.ADAPTIVE).to(DType.FLOAT64).flatten(0, -1).toDoubleArray();
            for (int i = 0; i < a.length; i++) assertThat(c[i]).isCloseTo(a[i], org.assertj.core.data.Offset.offset(1e-5));
            // a box of its own width per coordinate: narrow keeps it (not x₀ ± ε)
            dev.tikhon.verify.InputRegion thin = dev.tikhon.verify.InputRegion.box(x.sub(Tensor.fromDoubles(new double[]{0.1, 0.01, 0.1, 0.01}, 2, 2).to(x.dtype())), x.add(0.1));
            assertThat(thin.narrow(1, 1).box().lo().toDoubleArray()).containsExactly(new double[]{0.9, 0.49}, org.assertj.core.data.Offset.offset(1e-6));
        }
    }

    @Test
    void roundingAccountedProvesTheSmallBallToo() {
        double[] x = {0.3, -0.2};
        int label = argmax(outputs(new double[][]{x})[0]);
        VnnLib.Property p = VnnLib.parse(robustness(x, 0.01, label), "rob.vnnlib");
        Module m = OnnxImport.load(onnx).model().to(DType.FLOAT64);
        m.train(false);
        VnnLibCheck.Result r = new VnnLibCheck(m, new long[]{2}, true).run(p, List.of(Verification.Method.CROWN), 50, 0);
        assertThat(r.verdict()).isEqualTo(VnnLibCheck.Verdict.UNSAT);
    }

    static final List<Verification.Method> THREE = List.of(Verification.Method.IBP, Verification.Method.CROWN, Verification.Method.ALPHA_CROWN);

    @Test
    void theCascadeGivesTheResultOfEveryMethodOnEveryCase() {
        Random rng = new Random(21);
        int unsat = 0, sat = 0, unknown = 0;
        for (int t = 0; t < 24; t++) {
            double[] x = {rng.nextDouble() * 4 - 2, rng.nextDouble() * 4 - 2};
            double eps = 0.02 + rng.nextDouble() * 0.4;
            int label = argmax(outputs(new double[][]{x})[0]);
            VnnLib.Property p = VnnLib.parse(t % 2 == 0 ? robustness(x, eps, label) : robustness(x, eps, label, rng.nextDouble() - 0.5), "random.vnnlib");
            VnnLibCheck check = new VnnLibCheck(net, new long[]{2}, false);
            VnnLibCheck.Result every = check.run(p, THREE, 30, t, VnnLibCheck.Options.DEFAULT.withCascade(false));
            // the methods in any order: the cascade sorts them, cheapest first
            VnnLibCheck.Result cascade = check.run(p, List.of(Verification.Method.ALPHA_CROWN, Verification.Method.IBP, Verification.Method.CROWN), 30, t);
            assertThat(cascade.verdict()).as("box %d", t).isEqualTo(every.verdict());
            switch (every.verdict()) {
                case UNSAT -> unsat++;
                case SAT -> sat++;
                default -> unknown++;
            }
            if (every.verdict() == VnnLibCheck.Verdict.SAT) {   // the attack is deterministic per case: the same counterexample
                assertThat(cascade.counterexampleCase()).isEqualTo(every.counterexampleCase());
                assertThat(cascade.x()).containsExactly(every.x());
                continue;
            }
            for (int k = 0; k < p.cases().size(); k++) assertThat(cascade.cases().get(k).refuted()).isEqualTo(every.cases().get(k).refuted());
            // each method is given what the cheaper ones left, and refutes there what it refutes when it bounds everything
            long left = p.cases().size();
            for (Verification.Method m : List.of(Verification.Method.IBP, Verification.Method.CROWN, Verification.Method.ALPHA_CROWN)) {
                assertThat(every.given(m)).isEqualTo(p.cases().size());
                assertThat(cascade.given(m)).as("box %d, %s", t, m).isEqualTo(left);
                for (VnnLibCheck.CaseResult c : cascade.cases()) {
                    if (c.refutedBy().containsKey(m)) assertThat(c.refutedBy().get(m)).isEqualTo(every.cases().get(c.index()).refutedBy().get(m));
                }
                left -= cascade.refuted(m);
            }
            assertThat(cascade.refutedCases()).isEqualTo(p.cases().size() - left);
        }
        assertThat(unsat).as("some boxes proved").isGreaterThan(3);
        assertThat(sat).as("some boxes falsified").isGreaterThan(0);
    }

    @Test
    void alphaCrownIsNotRunWhereCrownProvedEverything() {
        double[] x = {0.3, -0.2};
        int label = argmax(outputs(new double[][]{x})[0]);
        VnnLib.Property p = VnnLib.parse(robustness(x, 0.01, label), "rob.vnnlib");
        VnnLibCheck.Result r = new VnnLibCheck(net, new long[]{2}, false).run(p, THREE, 50, 0);
        assertThat(r.verdict()).isEqualTo(VnnLibCheck.Verdict.UNSAT);
        assertThat(r.given(Verification.Method.ALPHA_CROWN)).isZero();
        assertThat(r.boundSeconds()).doesNotContainKey(Verification.Method.ALPHA_CROWN);
        assertThat(r.refuted(Verification.Method.IBP) + r.refuted(Verification.Method.CROWN)).isEqualTo(CLASSES - 1);
    }

    @Test
    void branchAndBoundRefutesWhatCrownDoesAndSamplesNeverContradictIt() {
        Random rng = new Random(5);
        int babOnly = 0, unsat = 0;
        VnnLibCheck.Options bab = VnnLibCheck.Options.DEFAULT.withCascade(false)
                .withBab(dev.tikhon.verify.BranchAndBound.Settings.DEFAULT.withDomains(64));
        for (int t = 0; t < 16; t++) {
            double[] x = {rng.nextDouble() * 4 - 2, rng.nextDouble() * 4 - 2};
            double eps = 0.05 + rng.nextDouble() * 0.4;
            int label = argmax(outputs(new double[][]{x})[0]);
            double d = t % 2 == 0 ? 0 : rng.nextDouble() - 0.5;   // constants: the search is for a bound above d
            VnnLib.Property p = VnnLib.parse(d == 0 ? robustness(x, eps, label) : robustness(x, eps, label, d), "random.vnnlib");
            VnnLibCheck check = new VnnLibCheck(net, new long[]{2}, false);
            VnnLibCheck.Result crown = check.run(p, List.of(Verification.Method.CROWN), 0, t, bab);
            VnnLibCheck.Result b = check.run(p, List.of(Verification.Method.BAB), 0, t, bab);
            double[][] xs = samples(x, eps, 300, new Random(100 + t));
            double[][] ys = outputs(xs);
            for (VnnLibCheck.CaseResult c : b.cases()) {
                boolean crownRefuted = crown.cases().get(c.index()).refuted();
                if (crownRefuted) assertThat(c.refuted()).as("box %d, case %d", t, c.index()).isTrue();
                if (c.refuted() && !crownRefuted) babOnly++;
                if (!c.refuted()) continue;
                VnnLib.Constraint g = p.cases().get(c.index()).constraints().get(c.refutedBy().get(Verification.Method.BAB));
                for (int k = 0; k < xs.length; k++) assertThat(g.value(ys[k])).as("box %d, case %d, sample %d", t, c.index(), k).isLessThan(0);
            }
            if (b.verdict() == VnnLibCheck.Verdict.UNSAT) {
                unsat++;
                for (int k = 0; k < xs.length; k++) assertThat(unsafe(p, xs[k], ys[k])).isFalse();
            }
        }
        assertThat(unsat).as("some boxes proved by bab").isGreaterThan(2);
        assertThat(babOnly).as("cases bab refutes and crown does not").isGreaterThan(0);
    }

    @Test
    void aTinyTimeoutStopsAndALargeOneChangesNothing() {
        double[] x = {0.3, -0.2};
        int label = argmax(outputs(new double[][]{x})[0]);
        VnnLib.Property p = VnnLib.parse(robustness(x, 0.3, label), "wide.vnnlib");
        VnnLibCheck check = new VnnLibCheck(net, new long[]{2}, false);
        List<Verification.Method> all = List.of(Verification.Method.IBP, Verification.Method.CROWN, Verification.Method.ALPHA_CROWN,
                Verification.Method.BAB_INPUT, Verification.Method.BAB);
        VnnLibCheck.Result tiny = check.run(p, all, 50, 0, VnnLibCheck.Options.DEFAULT.withTimeout(1e-9));
        assertThat(tiny.verdict()).isEqualTo(VnnLibCheck.Verdict.TIMEOUT);
        assertThat(tiny.refutedCases()).isZero();
        assertThat(tiny.x()).isNull();
        for (double eps : new double[]{0.01, 0.3, 3}) {
            VnnLib.Property q = VnnLib.parse(robustness(x, eps, label), "p.vnnlib");
            VnnLibCheck.Result none = check.run(q, all, 50, 0);
            VnnLibCheck.Result large = check.run(q, all, 50, 0, VnnLibCheck.Options.DEFAULT.withTimeout(1000));
            assertThat(large.verdict()).isEqualTo(none.verdict());
            assertThat(large.refutedCases()).isEqualTo(none.refutedCases());
            for (Verification.Method m : all) assertThat(large.refuted(m)).isEqualTo(none.refuted(m));
        }
    }

    /**
     * The time limit reaches into α-CROWN's ascent: on a wider network whose 20 steps take a while, a limit an eighth of
     * the full run's time stops the check within half of it (before, the ascent ran to its end and the check then
     * reported the timeout), α-CROWN having bounded every case with the steps it had: margins at least CROWN's and sound
     * at sampled points of the box.
     */
    @Test
    void aTimeoutStopsAlphaCrownsAscent() {
        Rng.seed(3);
        int inputs = 8, classes = 10;
        Module wide = new Sequential(new Linear(inputs, 128), Activation.relu(), new Linear(128, 128), Activation.relu(),
                new Linear(128, 128), Activation.relu(), new Linear(128, classes));
        Init.apply(wide, Init.STANDARD, false);
        wide.train(false);
        VnnLibCheck check = new VnnLibCheck(wide, new long[]{inputs}, false);
        double[] x = new double[inputs];
        for (int i = 0; i < inputs; i++) x[i] = Math.sin(i + 1);
        double[] y0 = check.forward(x);
        VnnLib.Property p = VnnLib.parse(robustness(x, 0.5, argmax(y0), classes), "wide.vnnlib");
        List<Verification.Method> alpha = List.of(Verification.Method.ALPHA_CROWN);
        VnnLibCheck.Options once = VnnLibCheck.Options.DEFAULT.withCascade(false);
        double full = 0;
        VnnLibCheck.Result whole = null;
        for (int rep = 0; rep < 2; rep++) {   // the second run warm
            long t0 = System.nanoTime();
            whole = check.run(p, alpha, 0, 0, once);
            full = (System.nanoTime() - t0) / 1e9;
            assertThat(whole.verdict()).as("α-CROWN leaves the property open").isIn(VnnLibCheck.Verdict.UNKNOWN, VnnLibCheck.Verdict.SAT);
        }
        VnnLibCheck.Result crown = check.run(p, List.of(Verification.Method.CROWN), 0, 0, once);
        long t0 = System.nanoTime();
        VnnLibCheck.Result stopped = check.run(p, alpha, 0, 0, once.withTimeout(full / 8));
        double seconds = (System.nanoTime() - t0) / 1e9;
        System.out.printf("α-CROWN on the wide network: %.3f s in full, stopped after %.3f s (limit %.3f s)%n", full, seconds, full / 8);
        assertThat(stopped.verdict()).isEqualTo(VnnLibCheck.Verdict.TIMEOUT);
        assertThat(stopped.given(Verification.Method.ALPHA_CROWN)).as("α-CROWN started and bounded every case").isEqualTo(p.cases().size());
        // stopped inside the ascent: some case's bound short of the full ascent's (a wall-clock bound alone would be
        // at the mercy of a loaded machine; this one only asks that it did not run twice as long as the whole)
        double shortfall = 0;
        for (VnnLibCheck.CaseResult c : stopped.cases()) {
            double[] cut = c.margins().get(Verification.Method.ALPHA_CROWN), all = whole.cases().get(c.index()).margins().get(Verification.Method.ALPHA_CROWN);
            for (int j = 0; j < cut.length; j++) shortfall = Math.max(shortfall, all[j] - cut[j]);
        }
        assertThat(shortfall).as("stopped inside the ascent: a bound short of the full ascent's").isGreaterThan(1e-6);
        assertThat(seconds).as("and within the whole run's time").isLessThan(2 * full);
        Random rng = new Random(4);
        double[][] ys = new double[200][];
        for (int s = 0; s < ys.length; s++) {
            double[] xs = new double[inputs];
            for (int i = 0; i < inputs; i++) xs[i] = x[i] - 0.5 + rng.nextDouble();
            ys[s] = check.forward(xs);
        }
        for (VnnLibCheck.CaseResult c : stopped.cases()) {
            double[] margin = c.margins().get(Verification.Method.ALPHA_CROWN), crownMargin = crown.cases().get(c.index()).margins().get(Verification.Method.CROWN);
            for (int j = 0; j < margin.length; j++) {
                assertThat(margin[j]).as("case %d: at least CROWN's", c.index()).isGreaterThanOrEqualTo(crownMargin[j] - 1e-4);
                VnnLib.Constraint g = p.cases().get(c.index()).constraints().get(j);
                for (double[] y : ys) assertThat(-g.value(y)).as("case %d: sound", c.index()).isGreaterThanOrEqualTo(margin[j] - 1e-4);
            }
        }
    }

    /** {@link #robustness(double[], double, int)} for a network of {@code classes} outputs. */
    static String robustness(double[] x, double eps, int label, int classes) {
        StringBuilder s = new StringBuilder();
        for (int i = 0; i < x.length; i++) s.append("(declare-const X_").append(i).append(" Real)\n");
        for (int j = 0; j < classes; j++) s.append("(declare-const Y_").append(j).append(" Real)\n");
        for (int i = 0; i < x.length; i++) {
            s.append("(assert (>= X_").append(i).append(' ').append(x[i] - eps).append("))\n");
            s.append("(assert (<= X_").append(i).append(' ').append(x[i] + eps).append("))\n");
        }
        s.append("(assert (or");
        for (int j = 0; j < classes; j++) if (j != label) s.append("\n  (and (>= Y_").append(j).append(" Y_").append(label).append("))");
        return s.append("))\n").toString();
    }
}
