package dev.tikhon.attack;

import dev.tikhon.engine.Tensor;
import dev.tikhon.nn.Module;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

/**
 * Oracles: hand-computed values. The attack losses on fixed logits (cross-entropy, the Carlini–Wagner margin, Croce &amp;
 * Hein's DLR and their targeted forms), the ranking of target classes, PGD's step-size schedules, and whole PGD runs on a
 * binary linear model, whose input gradient always points along w₁ − w₀ (for the label 0): each step then moves by a known
 * amount, so the schedule and the projection show in the result.
 */
class AttackLossAndStepKnownAnswersTest {
    // two examples, four classes; sorted row 0: 3 2 1 0, row 1: 5 4 1 0
    private static final Tensor LOGITS = Tensor.fromDoubles(new double[]{3, 1, 2, 0, 0, 5, 1, 4}, 2, 4);
    private static final Tensor Y = Tensor.fromLongs(new long[]{0, 3}, 2);
    private static final Tensor TARGET = Tensor.fromLongs(new long[]{2, 1}, 2);

    private static double[] of(AttackLoss loss, Tensor target) {
        return loss.perExample(LOGITS, Y, target).toDoubleArray();
    }

    private static double logSumExp(double... z) {
        double s = 0;
        for (double v : z) s += Math.exp(v);
        return Math.log(s);
    }

    @Test
    void untargetedLossesOnFixedLogits() {
        assertThat(AttackLoss.CE.perExample(LOGITS, Y).toDoubleArray())
                .containsExactly(new double[]{logSumExp(3, 1, 2, 0) - 3, logSumExp(0, 5, 1, 4) - 4}, within(1e-12));
        assertThat(of(AttackLoss.MARGIN, null)).containsExactly(new double[]{2 - 3, 5 - 4}, within(1e-12));
        // (max_{i≠y} z_i − z_y) / (z_π1 − z_π3)
        assertThat(of(AttackLoss.DLR, null)).containsExactly(new double[]{-1.0 / (3 - 1), 1.0 / (5 - 1)}, within(1e-9));
    }

    @Test
    void targetedLossesPushTowardsTheTargetOnly() {
        assertThat(of(AttackLoss.CE, TARGET)).containsExactly(new double[]{-(logSumExp(3, 1, 2, 0) - 2), -(logSumExp(0, 5, 1, 4) - 5)},
                within(1e-12));
        assertThat(of(AttackLoss.MARGIN, TARGET)).containsExactly(new double[]{2 - 3, 5 - 4}, within(1e-12));
        // (z_t − z_y) / (z_π1 − (z_π3 + z_π4) / 2)
        assertThat(of(AttackLoss.DLR, TARGET)).containsExactly(new double[]{-1 / (3 - 0.5), 1 / (5 - 0.5)}, within(1e-9));
        // a target other than the best other class: row 0 towards class 1 (z 1), row 1 towards class 0 (z 0)
        Tensor far = Tensor.fromLongs(new long[]{1, 0}, 2);
        assertThat(AttackLoss.MARGIN.perExample(LOGITS, Y, far).toDoubleArray()).containsExactly(new double[]{1 - 3, 0 - 4}, within(1e-12));
    }

    @Test
    void dlrRefusesTooFewClasses() {
        Tensor three = LOGITS.narrow(1, 0, 3), two = LOGITS.narrow(1, 0, 2);
        Tensor y = Tensor.fromLongs(new long[]{0, 1}, 2);
        assertThat(AttackLoss.DLR.perExample(three, y).toDoubleArray()).hasSize(2);
        assertThatThrownBy(() -> AttackLoss.DLR.perExample(two, y)).hasMessageContaining("at least 3 classes").hasMessageContaining("2");
        assertThatThrownBy(() -> AttackLoss.DLR.perExample(three, y, Tensor.fromLongs(new long[]{1, 0}, 2)))
                .hasMessageContaining("at least 4 classes");
        assertThat(AttackLoss.DLR.perExample(LOGITS, Y, TARGET).toDoubleArray()).hasSize(2);
    }

    @Test
    void targetsAreRankedByHowCloseTheModelIsToThem() {
        // row 0 (y 0): others 1→1, 2→2, 3→0; row 1 (y 3): 0→0, 1→5, 2→1
        assertThat(AttackLoss.rankedTarget(LOGITS, Y, 1).toLongArray()).containsExactly(2, 1);
        assertThat(AttackLoss.rankedTarget(LOGITS, Y, 2).toLongArray()).containsExactly(1, 2);
        assertThat(AttackLoss.rankedTarget(LOGITS, Y, 3).toLongArray()).containsExactly(3, 0);
        assertThat(AttackLoss.trueLogit(LOGITS, Y).toDoubleArray()).containsExactly(3, 4);
        assertThat(AttackLoss.bestOther(LOGITS, Y).toDoubleArray()).containsExactly(2, 5);
    }

    @Test
    void namesParseBothWays() {
        assertThat(AttackLoss.parse("CE")).isEqualTo(AttackLoss.CE);
        assertThat(AttackLoss.parse("margin")).isEqualTo(AttackLoss.MARGIN);
        assertThat(AttackLoss.parse("dlr")).isEqualTo(AttackLoss.DLR);
        assertThat(AttackLoss.DLR).hasToString("dlr");
        assertThatThrownBy(() -> AttackLoss.parse("hinge")).hasMessageContaining("'hinge'").hasMessageContaining("ce, margin or dlr");
        assertThat(Norm.parse("linf")).isEqualTo(Norm.LINF);
        assertThat(Norm.parse("L-Inf")).isEqualTo(Norm.LINF);
        assertThat(Norm.parse("inf")).isEqualTo(Norm.LINF);
        assertThat(Norm.parse("L2")).isEqualTo(Norm.L2);
        assertThatThrownBy(() -> Norm.parse("l1")).hasMessageContaining("'l1'").hasMessageContaining("linf or l2");
        assertThat(Norm.LINF.p()).isEqualTo(Double.POSITIVE_INFINITY);
        assertThat(Norm.L2.p()).isEqualTo(2);
        assertThat(Norm.LINF.dualP()).isEqualTo(1);
        assertThat(Norm.L2.dualP()).isEqualTo(2);
        assertThat(Norm.LINF).hasToString("linf");
        assertThat(Norm.L2).hasToString("l2");
        assertThat(Pgd.StepSchedule.parse("Cosine")).isEqualTo(Pgd.StepSchedule.COSINE);
        assertThatThrownBy(() -> Pgd.StepSchedule.parse("linear")).hasMessageContaining("'linear'").hasMessageContaining("constant, cosine or step");
    }

    @Test
    void stepSchedulesFollowTheirFormulas() {
        for (int k = 0; k < 8; k++) {
            assertThat(Pgd.StepSchedule.CONSTANT.factor(k, 8)).isEqualTo(1);
            assertThat(Pgd.StepSchedule.COSINE.factor(k, 8)).isCloseTo(0.5 * (1 + Math.cos(Math.PI * k / 8)), within(1e-15));
        }
        assertThat(Pgd.StepSchedule.COSINE.factor(0, 8)).isEqualTo(1);
        assertThat(Pgd.StepSchedule.COSINE.factor(4, 8)).isCloseTo(0.5, within(1e-15));
        // step: 1 for the first half, 0.1 to three quarters, 0.01 after
        double[] expected = {1, 1, 1, 1, 0.1, 0.1, 0.01, 0.01};
        for (int k = 0; k < 8; k++) assertThat(Pgd.StepSchedule.STEP.factor(k, 8)).as("k %d", k).isEqualTo(expected[k]);
    }

    @Test
    void pgdRefusesBadBudgetsAndNamesItself() {
        assertThatThrownBy(() -> new Pgd(Norm.LINF, -0.1, 1, 0.1, false)).hasMessageContaining("--eps must be ≥ 0");
        assertThatThrownBy(() -> new Pgd(Norm.LINF, Double.NaN, 1, 0.1, false)).hasMessageContaining("--eps");
        assertThatThrownBy(() -> new Pgd(Norm.LINF, 0.1, 0, 0.1, false)).hasMessageContaining("at least one step");
        assertThatThrownBy(() -> new Pgd(Norm.LINF, 0.1, 1, 0, false)).hasMessageContaining("step size must be positive");
        assertThat(new Pgd(Norm.LINF, 0, 1, 0, false).eps()).isZero();   // ε 0: no step needed
        assertThatThrownBy(() -> new Pgd(Norm.L2, 0.1, 3, 0.1, true).withRestarts(0)).hasMessageContaining("at least one restart");
        assertThatThrownBy(() -> new Pgd(Norm.L2, 0.1, 3, 0.1, true).withTargets(-1)).hasMessageContaining("≥ 0");

        Pgd madry = Pgd.madry(Norm.L2, 0.5, 10);
        assertThat(madry.stepSize()).isCloseTo(0.125, within(1e-15));
        assertThat(madry.randomStart()).isTrue();
        assertThat(madry.name()).isEqualTo("pgd-l2");
        assertThat(madry.withLoss(AttackLoss.MARGIN).withTargets(2).name()).isEqualTo("pgd-l2-margin-targeted");
        assertThat(madry.describe()).isEqualTo("PGD-10(l2, ε 0.5, step 0.125, random start)");
        assertThat(madry.withRestarts(3).withSchedule(Pgd.StepSchedule.COSINE).withLoss(AttackLoss.DLR).withTargets(2).describe())
                .isEqualTo("PGD-10(l2, ε 0.5, step 0.125, random start, 3 restarts, cosine steps, dlr loss, 2 targets)");
        assertThat(madry.withEps(1.0).stepSize()).isCloseTo(0.25, within(1e-15));   // the step scales with ε
        assertThat(madry.withEps(1.0).eps()).isEqualTo(1.0);
        assertThat(new Pgd(Norm.LINF, 0, 2, 0.3, false).withEps(0.5).stepSize()).isEqualTo(0.3);   // from ε 0 it is kept

        Pgd fgsm = Pgd.fgsm(0.1);
        assertThat(fgsm.name()).isEqualTo("fgsm");
        assertThat(fgsm.describe()).isEqualTo("FGSM(ε 0.1)");
        assertThat(fgsm.steps()).isEqualTo(1);
        assertThat(fgsm.randomStart()).isFalse();
        // one step of size ε without a random start, but in ℓ2 or with another step: not FGSM
        assertThat(new Pgd(Norm.L2, 0.1, 1, 0.1, false).name()).isEqualTo("pgd-l2");
        assertThat(new Pgd(Norm.LINF, 0.1, 1, 0.05, false).name()).isEqualTo("pgd-linf");
        assertThat(new Pgd(Norm.LINF, 0.1, 2, 0.1, false).name()).isEqualTo("pgd-linf");
        assertThat(new Pgd(Norm.LINF, 0.1, 1, 0.1, true).name()).isEqualTo("pgd-linf");
    }

    @Test
    void perExampleShapesBroadcastAgainstTheBatch() {
        Tensor like = Tensor.zeros(3, 2, 4, 5);
        assertThat(Pgd.perExample(Tensor.ones(3), like).shape()).containsExactly(3, 1, 1, 1);
        assertThat(Pgd.perExample(Tensor.ones(3), Tensor.zeros(3, 7)).shape()).containsExactly(3, 1);
    }

    // ---- whole PGD runs on a binary linear model: ∇ₓ CE = (1 − p_y)(w_other − w_y), a positive multiple of one direction

    /** z = Wx, W rows w₀ = 0 and w₁ = v: for the label 0 the gradient points along v. */
    private static final double[] V = {0.5, -1.0, 2.0, -0.25};

    private static Module linear() {
        Tensor w = Tensor.fromDoubles(new double[]{0, 0, 0, 0, V[0], V[1], V[2], V[3]}, 2, 4);
        return new Module() {
            @Override public Tensor forward(Tensor x) { return x.matmul(w.t()); }
        };
    }

    private static final Tensor X = Tensor.fromDoubles(new double[]{0.5, 0.5, 0.5, 0.5, 0.4, 0.6, 0.45, 0.55}, 2, 4);
    private static final Tensor LABELS = Tensor.fromLongs(new long[]{0, 0}, 2);

    private static double[] delta(Pgd pgd) {
        return pgd.perturb(linear(), X, LABELS).sub(X).toDoubleArray();
    }

    @Test
    void linfStepsMoveBySignTimesTheScheduledStepWithinTheBall() {
        double a = 0.01;
        // two steps: constant 1 + 1, cosine 1 + 0.5, step 1 + 0.01 (k = 1 of 2 is past three quarters)
        double[][] cases = {{1 + 1, 0}, {1 + 0.5, 1}, {1 + 0.01, 2}};
        for (double[] c : cases) {
            Pgd.StepSchedule s = Pgd.StepSchedule.values()[(int) c[1]];
            double[] d = delta(new Pgd(Norm.LINF, 0.2, 2, a, false, 1, s, AttackLoss.CE, 0));
            for (int i = 0; i < d.length; i++) {
                assertThat(d[i]).as("%s, coordinate %d", s, i).isCloseTo(Math.signum(V[i % 4]) * c[0] * a, within(1e-12));
            }
        }
        // a step larger than ε is cut back to the ball's face
        double[] d = delta(new Pgd(Norm.LINF, 0.03, 3, 0.02, false));
        for (int i = 0; i < d.length; i++) assertThat(d[i]).isCloseTo(Math.signum(V[i % 4]) * 0.03, within(1e-12));
    }

    @Test
    void l2StepsMoveAlongTheUnitGradientAndAreProjectedOntoTheBall() {
        double norm = 0;
        for (double v : V) norm += v * v;
        norm = Math.sqrt(norm);
        double[] d = delta(new Pgd(Norm.L2, 1.0, 2, 0.05, false, 1, Pgd.StepSchedule.COSINE, AttackLoss.CE, 0));
        for (int i = 0; i < d.length; i++) assertThat(d[i]).isCloseTo(1.5 * 0.05 * V[i % 4] / norm, within(1e-12));
        // three steps of 0.05 against a ball of 0.08: the projection scales back to radius 0.08
        d = delta(new Pgd(Norm.L2, 0.08, 3, 0.05, false));
        for (int i = 0; i < d.length; i++) assertThat(d[i]).isCloseTo(0.08 * V[i % 4] / norm, within(1e-12));
    }

    @Test
    void theBoxClipsWhatTheBallAllows() {
        Tensor x = Tensor.fromDoubles(new double[]{0.99, 0.005, 0.99, 0.5}, 1, 4);
        Tensor adv = new Pgd(Norm.LINF, 0.1, 1, 0.1, false).perturb(linear(), x, Tensor.fromLongs(new long[]{0}, 1));
        assertThat(adv.toDoubleArray()).containsExactly(new double[]{1.0, 0.0, 1.0, 0.4}, within(1e-12));
    }

    @Test
    void attackKeepsTheFirstIterateThatFoolsAndReportsItsDistance() {
        // z₁ − z₀ = v·x; at X row 0 v·x = 0.625 > 0, so label 1 is correct; the boundary is at ℓ∞ distance 0.625/‖v‖₁ = 0.1667
        Tensor y = Tensor.fromLongs(new long[]{1}, 1);
        Tensor x = X.narrow(0, 0, 1);
        double exact = 0.625 / 3.75;
        Attack.Result hit = new Pgd(Norm.LINF, 0.2, 4, 0.05, false).attack(linear(), x, y);
        assertThat(hit.success()).containsExactly(true);
        // iterates at 0.05, 0.10, 0.15, 0.20: the first beyond the boundary is at 0.20
        assertThat(hit.distance()[0]).isCloseTo(0.2, within(1e-9));
        assertThat(linear().forward(hit.adversarial()).argmax(1).toLongArray()).containsExactly(0);
        Attack.Result miss = new Pgd(Norm.LINF, exact * 0.99, 10, exact / 5, true).withRestarts(3).attack(linear(), x, y);
        assertThat(miss.success()).containsExactly(false);
        assertThat(miss.distance()[0]).isEqualTo(Double.POSITIVE_INFINITY);
        assertThat(miss.adversarial().toDoubleArray()).containsExactly(x.toDoubleArray());
        assertThat(hit.successes()).isEqualTo(1);
        assertThat(miss.successes()).isZero();
    }

    @Test
    void targetedPgdRunsTowardsEachRankedClass() {
        // three classes: z = (0, s, −s), s = v·x; y = 1; the best other is class 0. Pushing z₀ − z₁ up lowers s, and once
        // s < 0 class 2 wins: the targeted run succeeds at the same step as the untargeted one above
        Tensor w = Tensor.fromDoubles(new double[]{0, 0, 0, 0, V[0], V[1], V[2], V[3], -V[0], -V[1], -V[2], -V[3]}, 3, 4);
        Module m = new Module() {
            @Override public Tensor forward(Tensor x) { return x.matmul(w.t()); }
        };
        Tensor x = X.narrow(0, 0, 1), y = Tensor.fromLongs(new long[]{1}, 1);
        Attack.Result r = new Pgd(Norm.LINF, 0.3, 6, 0.05, false).withTargets(2).withLoss(AttackLoss.MARGIN).attack(m, x, y);
        assertThat(r.success()).containsExactly(true);
        assertThat(m.forward(r.adversarial()).argmax(1).toLongArray()).containsExactly(2);
        assertThat(r.distance()[0]).isCloseTo(0.2, within(1e-9));
    }
}
