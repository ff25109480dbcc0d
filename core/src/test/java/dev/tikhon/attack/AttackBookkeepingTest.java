package dev.tikhon.attack;

import dev.tikhon.engine.DType;
import dev.tikhon.engine.Device;
import dev.tikhon.engine.Rng;
import dev.tikhon.engine.Tensor;
import dev.tikhon.nn.Module;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

/**
 * Oracles: hand-computed values and the exact distances of a linear model. What the attacks share: the tracker that keeps
 * each example's smallest success, merging sub-batch results, the bisection that refines a distance, the wall-clock budget,
 * the geometry of steps and projections; and the Square attack's schedule and search against the exact ℓ∞ distance of a
 * linear model, APGD's budget checks and its result against the same distance.
 */
class AttackBookkeepingTest {
    /** z = (0, v·x). */
    private static final double[] V = {0.5, -1.0, 2.0, -0.25};
    private static final Module LINEAR = new Module() {
        private final Tensor w = Tensor.fromDoubles(new double[]{0, 0, 0, 0, V[0], V[1], V[2], V[3]}, 2, 4);

        @Override public Tensor forward(Tensor x) { return x.matmul(w.t()); }
    };

    private static Tensor logits(double... rows) {
        return Tensor.fromDoubles(rows, rows.length / 2, 2);
    }

    @Test
    void trackerKeepsTheSmallestSuccessPerExample() {
        Tensor x = Tensor.zeros(DType.FLOAT64, Device.CPU, 2, 3), y = Tensor.fromLongs(new long[]{0, 0}, 2);
        Tracker t = new Tracker(Norm.L2, x, y);
        assertThat(t.result().success()).containsExactly(false, false);
        assertThat(t.result().distance()).containsExactly(Double.POSITIVE_INFINITY, Double.POSITIVE_INFINITY);
        t.offer(Tensor.full(1, DType.FLOAT64, Device.CPU, 2, 3), logits(0, 1, 1, 0));    // row 0 fooled at √3
        t.offer(Tensor.full(0.5, DType.FLOAT64, Device.CPU, 2, 3), logits(0, 1, 0, 1));  // both fooled at √0.75
        t.offer(Tensor.full(0.1, DType.FLOAT64, Device.CPU, 2, 3), logits(1, 0, 1, 0));  // closer, not fooled: ignored
        t.offer(Tensor.full(0.9, DType.FLOAT64, Device.CPU, 2, 3), logits(0, 1, 0, 1));  // fooled, farther: ignored
        Attack.Result r = t.result();
        assertThat(r.success()).containsExactly(true, true);
        assertThat(r.distance()).containsExactly(new double[]{Math.sqrt(0.75), Math.sqrt(0.75)}, within(1e-12));
        assertThat(r.adversarial().toDoubleArray()).containsOnly(0.5);
        Tracker linf = new Tracker(Norm.LINF, x, y);
        linf.offer(Tensor.fromDoubles(new double[]{0.1, -0.3, 0.2, 0, 0, 0}, 2, 3), logits(0, 1, 0, 1));
        assertThat(linf.result().distance()).containsExactly(new double[]{0.3, 0}, within(1e-12));
    }

    @Test
    void mergeKeepsTheSmallerSuccessOfTheSubBatch() {
        Tensor x = Tensor.zeros(DType.FLOAT64, Device.CPU, 3, 2);
        Attack.Result whole = new Attack.Result(x.copy(), new boolean[]{false, true, false}, new double[]{Double.POSITIVE_INFINITY, 0.5,
                Double.POSITIVE_INFINITY});
        // the sub-batch is rows 2 and 1: row 2 newly fooled, row 1 fooled again but farther (kept at 0.5)
        Attack.Result sub = new Attack.Result(Tensor.fromDoubles(new double[]{0.2, 0.2, 0.9, 0.9}, 2, 2), new boolean[]{true, true},
                new double[]{0.2, 0.9});
        Attack.Result m = Attacks.merge(whole, new int[]{2, 1}, sub);
        assertThat(m.success()).containsExactly(false, true, true);
        assertThat(m.distance()).containsExactly(Double.POSITIVE_INFINITY, 0.5, 0.2);
        assertThat(m.adversarial().toDoubleArray()).containsExactly(0, 0, 0, 0, 0.2, 0.2);
        assertThat(whole.success()).containsExactly(false, true, false);   // the input is left as it was
        Attack.Result nothing = new Attack.Result(sub.adversarial(), new boolean[]{false, true}, new double[]{Double.POSITIVE_INFINITY, 0.7});
        assertThat(Attacks.merge(whole, new int[]{2, 1}, nothing)).isSameAs(whole);
        assertThat(Attacks.failed(m)).containsExactly(0);
        assertThat(Attacks.rows(Tensor.arange(6, DType.FLOAT64, Device.CPU).reshape(3, 2), new int[]{2, 0}).toDoubleArray())
                .containsExactly(4, 5, 0, 1);
        Attack.Result none = Attacks.none(x);
        assertThat(none.success()).containsExactly(false, false, false);
        assertThat(none.distance()).containsOnly(Double.POSITIVE_INFINITY);
        Attack.Result wrong = Attacks.alreadyWrong(logits(1, 0, 0, 1, 1, 0), x, Tensor.fromLongs(new long[]{0, 0, 1}, 3));
        assertThat(wrong.success()).containsExactly(false, true, true);
        assertThat(wrong.distance()).containsExactly(Double.POSITIVE_INFINITY, 0, 0);
    }

    @Test
    void refineBisectsDownToTheBoundary() {
        // at x, v·x = 0.625 (label 1); along −sign(v) the boundary is at ℓ∞ distance 0.625 / ‖v‖₁ = 1/6
        Tensor x = Tensor.full(0.5, DType.FLOAT64, Device.CPU, 2, 4), y = Tensor.fromLongs(new long[]{1, 1}, 2);
        x = x.add(Tensor.fromDoubles(new double[]{0, 0, 0, 0, 0, 0, 0, 0}, 2, 4));
        double s = 0.3;
        Tensor far = x.add(Tensor.fromDoubles(new double[]{-s, s, -s, s, -s, s, -s, s}, 2, 4));
        // row 0: found at 0.3; row 1: not found
        Attack.Result found = new Attack.Result(Tensor.cat(java.util.List.of(far.narrow(0, 0, 1), x.narrow(0, 1, 1)), 0),
                new boolean[]{true, false}, new double[]{0.3, Double.POSITIVE_INFINITY});
        Attack.Result r = Attacks.refine(LINEAR, Norm.LINF, x, y, found, 40);
        double exact = 0.625 / 3.75;
        assertThat(r.success()).containsExactly(true, false);
        assertThat(r.distance()[0]).isBetween(exact, exact * (1 + 1e-9));
        assertThat(LINEAR.forward(r.adversarial().narrow(0, 0, 1)).argmax(1).toLongArray()).containsExactly(0);
        assertThat(Attacks.refine(LINEAR, Norm.LINF, x, y, found, 0)).isSameAs(found);
        Attack.Result atZero = new Attack.Result(x, new boolean[]{true, false}, new double[]{0, Double.POSITIVE_INFINITY});
        assertThat(Attacks.refine(LINEAR, Norm.LINF, x, y, atZero, 10)).isSameAs(atZero);
    }

    @Test
    void budgetStopsOnlyInsideItsDeadlineAndRestoresTheOuterOne() throws Exception {
        assertThat(Budget.exhausted()).isFalse();
        assertThat(Budget.within(0, Budget::exhausted)).isFalse();
        assertThat(Budget.within(Double.POSITIVE_INFINITY, Budget::exhausted)).isFalse();
        assertThat(Budget.within(Double.NaN, Budget::exhausted)).isFalse();
        assertThat(Budget.within(1e-6, () -> {
            long until = System.nanoTime() + 2_000_000;
            while (System.nanoTime() < until) Thread.onSpinWait();
            return Budget.exhausted();
        })).isTrue();
        assertThat(Budget.exhausted()).isFalse();
        boolean[] inner = new boolean[2];
        Budget.within(3600, () -> {
            inner[0] = Budget.within(1e-6, () -> {
                long until = System.nanoTime() + 2_000_000;
                while (System.nanoTime() < until) Thread.onSpinWait();
                return Budget.exhausted();
            });
            inner[1] = Budget.exhausted();   // the outer hour is back
            return null;
        });
        assertThat(inner).containsExactly(true, false);
        // a cut-short attack stops after its first evaluation: PGD reports what it has, the clean point
        Tensor x = Tensor.full(0.5, DType.FLOAT64, Device.CPU, 1, 4);
        Attack.Result r = Budget.within(1e-9, () -> {
            long until = System.nanoTime() + 1_000_000;
            while (System.nanoTime() < until) Thread.onSpinWait();
            return new Pgd(Norm.LINF, 0.3, 10, 0.1, false).attack(LINEAR, x, Tensor.fromLongs(new long[]{1}, 1));
        });
        assertThat(r.success()).containsExactly(false);
        assertThat(new Pgd(Norm.LINF, 0.3, 10, 0.1, false).attack(LINEAR, x, Tensor.fromLongs(new long[]{1}, 1)).success()).containsExactly(true);
    }

    @Test
    void geometryDirectionsProjectionsAndStarts() {
        Tensor g = Tensor.fromDoubles(new double[]{3, -4, 0, 0, 0, 0}, 2, 3);
        assertThat(Geometry.direction(Norm.LINF, g).toDoubleArray()).containsExactly(1, -1, 0, 0, 0, 0);
        assertThat(Geometry.direction(Norm.L2, g).toDoubleArray()).containsExactly(new double[]{0.6, -0.8, 0, 0, 0, 0}, within(1e-12));
        Tensor x = Tensor.full(0.5, DType.FLOAT64, Device.CPU, 2, 3);
        Tensor eps = Tensor.fromDoubles(new double[]{0.1, 1.0}, 2);
        Tensor candidate = x.add(Tensor.fromDoubles(new double[]{0.3, -0.05, 0.2, 0.3, -0.4, 0}, 2, 3));
        double[] before = candidate.toDoubleArray();
        Region linf = new Region(Norm.LINF, x, eps), l2 = new Region(Norm.L2, x, eps);
        assertThat(linf.project(candidate).toDoubleArray())
                .containsExactly(new double[]{0.6, 0.45, 0.6, 0.8, 0.1, 0.5}, within(1e-12));
        // ℓ2: row 0 scaled to radius 0.1; row 1 (‖δ‖ 0.5 ≤ 1) kept
        double n0 = Math.sqrt(0.09 + 0.0025 + 0.04);
        double[] l2Projected = {0.5 + 0.03 / n0, 0.5 - 0.005 / n0, 0.5 + 0.02 / n0, 0.8, 0.1, 0.5};
        assertThat(l2.project(candidate).toDoubleArray()).containsExactly(l2Projected, within(1e-12));
        assertThat(candidate.toDoubleArray()).as("project leaves its argument alone").containsExactly(before);
        // project_ and ascend_ work in place on their argument and return it
        Tensor point = candidate.copy();
        assertThat(l2.project_(point)).isSameAs(point);
        assertThat(point.toDoubleArray()).containsExactly(l2Projected, within(1e-12));
        point = x.copy();
        assertThat(linf.ascend_(point, g, 0.25)).isSameAs(point);   // x + 0.25 sign g, within ε 0.1 (row 0) and 1 (row 1)
        assertThat(point.toDoubleArray()).containsExactly(new double[]{0.6, 0.4, 0.5, 0.5, 0.5, 0.5}, within(1e-12));
        point = x.copy();
        l2.ascend_(point, g, 0.25);   // x + 0.25 g/‖g‖: row 0 moves 0.25 > ε 0.1, so it is scaled back onto the sphere
        assertThat(point.toDoubleArray()).containsExactly(new double[]{0.56, 0.42, 0.5, 0.5, 0.5, 0.5}, within(1e-12));
        // the box: a move past 1 is clipped
        assertThat(new Region(Norm.LINF, x, 1).project(x.add(0.9)).toDoubleArray()).containsOnly(1.0);
        assertThat(new Region(Norm.L2, x, 10).project(x.add(0.9)).toDoubleArray()).containsOnly(1.0);
        assertThat(Geometry.distance(Norm.L2, candidate, x).toDoubleArray()).containsExactly(new double[]{n0, 0.5}, within(1e-12));
        assertThat(new Region(Norm.LINF, x, 0.3).eps().toDoubleArray()).containsExactly(0.3, 0.3);
        Rng.seed(3);
        Tensor many = Tensor.full(0.5, DType.FLOAT64, Device.CPU, 2000, 2);
        for (Norm norm : Norm.values()) {
            Tensor d = new Region(norm, many, 0.2).randomStart().sub(many);
            double[] size = d.normPerExample(norm.p()).toDoubleArray();
            double max = 0, mean = 0;
            for (double v : size) {
                max = Math.max(max, v);
                mean += v / size.length;
            }
            assertThat(max).as("%s", norm).isLessThanOrEqualTo(0.2 + 1e-12);
            // uniform in the 2-D ball (ℓ2: E‖δ‖ = 2ε/3) and in the square (ℓ∞: E max|δᵢ| = 2ε/3)
            assertThat(mean).as("%s", norm).isCloseTo(2 * 0.2 / 3, within(0.01));
        }
    }

    @Test
    void squareScheduleHalvesAtTheAuthorsBreakpoints() {
        assertThat(SquareAttack.fraction(0.8, 10, 10000)).isEqualTo(0.8);
        assertThat(SquareAttack.fraction(0.8, 11, 10000)).isEqualTo(0.4);
        assertThat(SquareAttack.fraction(0.8, 50, 10000)).isEqualTo(0.4);
        assertThat(SquareAttack.fraction(0.8, 51, 10000)).isEqualTo(0.2);
        assertThat(SquareAttack.fraction(0.8, 501, 10000)).isEqualTo(0.8 / 16);
        assertThat(SquareAttack.fraction(0.8, 9999, 10000)).isEqualTo(0.8 / 512);
        assertThat(SquareAttack.fraction(0.8, 1, 100)).isEqualTo(0.2);   // query 1 of 100 is the authors' 100 of 10,000
        assertThat(SquareAttack.fraction(0.5, 0, 100)).isEqualTo(0.5);
        assertThatThrownBy(() -> new SquareAttack(0, 10, 0.5)).hasMessageContaining("ε > 0");
        assertThatThrownBy(() -> new SquareAttack(0.1, 0, 0.5)).hasMessageContaining("at least one query");
        assertThatThrownBy(() -> new SquareAttack(0.1, 10, 0)).hasMessageContaining("(0, 1]");
        assertThatThrownBy(() -> new SquareAttack(0.1, 10, 1.5)).hasMessageContaining("(0, 1]");
        assertThat(new SquareAttack(0.1, 10, 1).pInit()).isEqualTo(1);
        SquareAttack s = new SquareAttack(0.1, 10, 0.5);
        assertThat(s.name()).isEqualTo("square");
        assertThat(s.norm()).isEqualTo(Norm.LINF);
        assertThat(s.withEps(0.3).eps()).isEqualTo(0.3);
        assertThat(s.withEps(0.3).queries()).isEqualTo(10);
        assertThat(SquareAttack.asImages(Tensor.zeros(5, 12)).shape()).containsExactly(5, 1, 1, 12);
        assertThat(SquareAttack.asImages(Tensor.zeros(5, 2, 3, 4)).shape()).containsExactly(5, 2, 3, 4);
        assertThat(SquareAttack.reshaping(LINEAR, new long[]{5, 2, 3, 4})).isSameAs(LINEAR);
    }

    @Test
    void squareFindsTheLinfVertexOfALinearModelAndNothingInsideTheExactDistance() {
        // v·x = 0.625 at x = 0.5 (label 1); the closest ℓ∞ adversarial point is x − t sign(v), t = 0.625 / 3.75 = 1/6
        Tensor x = Tensor.full(0.5, DType.FLOAT64, Device.CPU, 6, 4), y = Tensor.fromLongs(new long[]{1, 1, 1, 1, 1, 1}, 6);
        double exact = 0.625 / 3.75;
        Rng.seed(11);
        Attack.Result above = new SquareAttack(exact * 1.05, 200, 0.8).attack(LINEAR, x, y);
        assertThat(above.success()).as("found within 1.05× the exact distance").containsOnly(true);
        assertThat(java.util.Arrays.stream(above.distance()).boxed().toList()).allSatisfy(d -> assertThat(d).isBetween(exact, exact * 1.05 * (1 + 1e-9)));
        assertThat(LINEAR.forward(above.adversarial()).argmax(1).toLongArray()).containsOnly(0L);
        assertThat(above.adversarial().shape()).containsExactly(6, 4);
        Rng.seed(11);
        Attack.Result below = new SquareAttack(exact * 0.98, 200, 0.8).attack(LINEAR, x, y);
        assertThat(below.success()).containsOnly(false);
        assertThat(below.adversarial().toDoubleArray()).containsOnly(0.5);
    }

    @Test
    void apgdChecksItsBudgetAndFindsTheLinearBoundary() {
        assertThatThrownBy(() -> new Apgd(Norm.LINF, 0, 10, AttackLoss.CE, 1)).hasMessageContaining("ε > 0");
        assertThatThrownBy(() -> new Apgd(Norm.LINF, 0.1, 1, AttackLoss.CE, 1)).hasMessageContaining("at least 2 steps");
        assertThatThrownBy(() -> new Apgd(Norm.LINF, 0.1, 10, AttackLoss.CE, 0)).hasMessageContaining("at least one restart");
        assertThatThrownBy(() -> new Apgd(Norm.LINF, 0.1, 10, AttackLoss.CE, 1, -1)).hasMessageContaining("≥ 0");
        assertThatThrownBy(() -> new Apgd(Norm.LINF, 0.1, 10, AttackLoss.CE, 1).withEot(0)).hasMessageContaining("--eot must be ≥ 1");
        Apgd a = new Apgd(Norm.LINF, 0.1, 10, AttackLoss.CE, 1);
        assertThat(a.name()).isEqualTo("apgd-ce");
        assertThat(new Apgd(Norm.LINF, 0.1, 10, AttackLoss.DLR, 1, 2).name()).isEqualTo("apgd-t-dlr");
        assertThat(a.withEps(0.2).eps()).isEqualTo(0.2);
        assertThat(a.withEps(0.2).steps()).isEqualTo(10);
        assertThat(a.withEot(3).eot()).isEqualTo(3);
        assertThat(a.eot()).isEqualTo(1);
        assertThat(a.targets()).isZero();

        Tensor x = Tensor.full(0.5, DType.FLOAT64, Device.CPU, 4, 4), y = Tensor.fromLongs(new long[]{1, 1, 1, 1}, 4);
        double exact = 0.625 / 3.75;
        for (int steps : new int[]{2, 5, 20}) {
            Rng.seed(5);
            Attack.Result r = new Apgd(Norm.LINF, exact * 1.02, steps, AttackLoss.CE, 1).attack(LINEAR, x, y);
            assertThat(r.success()).as("%d steps", steps).containsOnly(true);
            assertThat(java.util.Arrays.stream(r.distance()).boxed().toList()).allSatisfy(d -> assertThat(d).isBetween(exact, exact * 1.02 * (1 + 1e-9)));
            Rng.seed(5);
            assertThat(new Apgd(Norm.LINF, exact * 0.98, steps, AttackLoss.MARGIN, 2).attack(LINEAR, x, y).success()).containsOnly(false);
        }
    }
}
