package dev.tikhon.attack;

import dev.tikhon.engine.Tensor;
import dev.tikhon.nn.Module;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

/**
 * Oracle: members whose answers are fixed in advance. The ensemble's bookkeeping (AutoAttack's order, each member only on
 * the points still standing; successes outside ε dropped; the smallest distance kept and named; first-broken counts; every
 * member on every point) can then be checked exactly, and the registry's factories by what they build.
 */
class EnsembleAndRegistryTest {
    /** z = (0, v·x): label 1 where v·x > 0. */
    private static final Module MODEL = new Module() {
        private final Tensor w = Tensor.fromDoubles(new double[]{0, 0, 0, 0, 1, 1, -1, -1}, 2, 4);

        @Override public Tensor forward(Tensor x) { return x.matmul(w.t()); }
    };
    // rows 0–2 have v·x = 0.02 > 0 and label 1 (correct); row 3 has v·x = 0.02 but label 0: already misclassified.
    // The margin is small so that every shift of coordinate 2 by 0.02 or more really misclassifies (the ensemble checks).
    private static final Tensor X = Tensor.fromDoubles(new double[]{0.51, 0.51, 0.5, 0.5, 0.51, 0.51, 0.5, 0.5, 0.51, 0.51, 0.5, 0.5,
            0.51, 0.51, 0.5, 0.5}, 4, 4);
    private static final Tensor Y = Tensor.fromLongs(new long[]{1, 1, 1, 0}, 4);

    /** Moves coordinate 2 up by {@code d} (ℓ∞ and ℓ2 distance d) and claims success on the rows {@code fools} allows. */
    static final class Fixed implements Attack {
        final String name;
        final double d;
        final java.util.function.IntPredicate fools;   // by the row's first-call position
        final List<Integer> calls = new ArrayList<>();

        Fixed(String name, double d, java.util.function.IntPredicate fools) {
            this.name = name;
            this.d = d;
            this.fools = fools;
        }

        @Override public String name() { return name; }

        @Override public Norm norm() { return Norm.LINF; }

        @Override public Result attack(Module model, Tensor x, Tensor y) {
            int n = (int) x.size(0);
            calls.add(n);
            double[] shift = new double[n * 4];
            boolean[] success = new boolean[n];
            double[] distance = new double[n];
            for (int i = 0; i < n; i++) {
                success[i] = fools.test(i);
                shift[i * 4 + 2] = success[i] ? d : 0;
                distance[i] = success[i] ? d : Double.POSITIVE_INFINITY;
            }
            return new Result(x.add(Tensor.fromDoubles(shift, n, 4)), success, distance);
        }
    }

    @Test
    void eachMemberAttacksOnlyWhatIsStillStandingAndSuccessesBeyondEpsDoNotCount() {
        Fixed far = new Fixed("far", 0.3, i -> true), firstTwo = new Fixed("first-two", 0.1, i -> i < 2),
                rest = new Fixed("rest", 0.15, i -> true), never = new Fixed("never", 0.01, i -> true);
        Ensemble.Outcome o = new Ensemble(Norm.LINF, 0.2, List.of(far, firstTwo, rest, never)).run(MODEL, X, Y);
        assertThat(far.calls).containsExactly(3);        // the three correct points
        assertThat(firstTwo.calls).containsExactly(3);   // far's successes lay outside ε: nothing broken yet
        assertThat(rest.calls).containsExactly(1);
        assertThat(never.calls).isEmpty();               // nothing left standing: never called
        assertThat(o.result().success()).containsExactly(true, true, true, true);
        assertThat(o.result().distance()).containsExactly(new double[]{0.1, 0.1, 0.15, 0}, within(1e-12));
        assertThat(o.foundBy()).containsExactly("first-two", "first-two", "rest", "clean");
        assertThat(o.firstBrokenBy()).containsExactly(0, 2, 1, 0);
        assertThat(o.broke()).isNull();
        double[] adv = o.result().adversarial().toDoubleArray();
        assertThat(adv[2]).isCloseTo(0.6, within(1e-12));
        assertThat(adv[4 + 2]).isCloseTo(0.6, within(1e-12));
        assertThat(adv[8 + 2]).isCloseTo(0.65, within(1e-12));
        assertThat(adv[12 + 2]).isCloseTo(0.5, within(1e-12));   // already wrong: the clean point
        assertThat(new Ensemble(Norm.LINF, 0.2, List.of(far, firstTwo)).attack(MODEL, X, Y).success()).containsExactly(true, true, false, true);
    }

    @Test
    void everyMemberOnEveryPointKeepsTheSmallestAndCreditsTheFirst() {
        Fixed a = new Fixed("a", 0.1, i -> i != 1), b = new Fixed("b", 0.05, i -> i != 2), c = new Fixed("c", 0.3, i -> true);
        Ensemble.Outcome o = new Ensemble(Norm.LINF, 0.2, List.of(a, b, c)).run(MODEL, X, Y, true);
        assertThat(a.calls).containsExactly(3);
        assertThat(b.calls).containsExactly(3);
        assertThat(c.calls).containsExactly(3);
        assertThat(o.broke()[0]).containsExactly(true, false, true, false);
        assertThat(o.broke()[1]).containsExactly(true, true, false, false);
        assertThat(o.broke()[2]).containsExactly(false, false, false, false);   // beyond ε
        assertThat(o.firstBrokenBy()).containsExactly(2, 1, 0);
        assertThat(o.result().distance()).containsExactly(new double[]{0.05, 0.05, 0.1, 0}, within(1e-12));
        assertThat(o.foundBy()).containsExactly("b", "b", "a", "clean");
    }

    /** Moves every row by {@code shift} and claims success on all of them at the ℓ∞ size of the shift. */
    static Attack claiming(String name, double[] shift) {
        return new Attack() {
            @Override public String name() { return name; }
            @Override public Norm norm() { return Norm.LINF; }
            @Override public Result attack(Module model, Tensor x, Tensor y) {
                int n = (int) x.size(0);
                double size = java.util.Arrays.stream(shift).map(Math::abs).max().orElse(0);
                boolean[] success = new boolean[n];
                double[] distance = new double[n];
                java.util.Arrays.fill(success, true);
                java.util.Arrays.fill(distance, size);
                return new Result(x.add(Tensor.fromDoubles(shift, 1, 4)), success, distance);
            }
        };
    }

    /**
     * AutoAttack's rule: a point is broken only if the model, run again on the point returned, misclassifies it, and the
     * point lies within ε and in the input domain. A member's own claim is not enough.
     */
    @Test
    void aPointCountsAsBrokenOnlyWhereTheModelMisclassifiesTheReturnedPointInTheDomain() {
        Attack liar = claiming("liar", new double[]{0, 0, 0.01, 0});   // v·x stays > 0: still class 1
        Ensemble.Outcome o = new Ensemble(Norm.LINF, 0.2, List.of(liar)).run(MODEL, X, Y);
        assertThat(o.result().success()).containsExactly(false, false, false, true);
        assertThat(o.firstBrokenBy()).containsExactly(0);
        Tensor nearFace = Tensor.fromDoubles(new double[]{0.05, 0.05, 0.04, 0.04}, 1, 4);   // v·x = 0.02: class 1
        Attack outside = claiming("outside", new double[]{-0.1, 0, 0, 0});               // misclassified, but at x₀ = −0.05
        assertThat(new Ensemble(Norm.LINF, 0.2, List.of(outside)).run(MODEL, nearFace, Tensor.fromLongs(new long[]{1}, 1))
                .result().success()).containsExactly(false);
        Attack inside = claiming("inside", new double[]{-0.05, 0, 0, 0});                // misclassified (v·x = −0.03), in the box
        assertThat(new Ensemble(Norm.LINF, 0.2, List.of(inside)).run(MODEL, nearFace, Tensor.fromLongs(new long[]{1}, 1))
                .result().success()).containsExactly(true);
    }

    @Test
    void ensembleNamesAndEot() {
        Fixed a = new Fixed("a", 0.1, i -> true);
        Apgd apgd = new Apgd(Norm.L2, 0.5, 10, AttackLoss.CE, 1);
        Ensemble e = new Ensemble(Norm.L2, 0.5, List.of(apgd, a));
        assertThat(e.name()).isEqualTo("ensemble(apgd-ce+a)");
        assertThat(new Ensemble(Norm.L2, 0.5, List.of(a)).name()).isEqualTo("ensemble(a)");
        assertThat(e.withEot(1)).isSameAs(e);
        Ensemble eot = e.withEot(3);
        assertThat(((Apgd) eot.members().get(0)).eot()).isEqualTo(3);
        assertThat(eot.members().get(1)).isSameAs(a);
        assertThat(eot.eps()).isEqualTo(0.5);
        assertThat(eot.norm()).isEqualTo(Norm.L2);
        assertThatThrownBy(() -> new Ensemble(Norm.L2, 0.5, List.of())).hasMessageContaining("at least one attack");
    }

    @Test
    void standardEnsembleAdaptsToTheNumberOfClassesAndTargets() {
        List<Attack> two = Ensemble.standard(Norm.LINF, 0.1, 2, 10, 2, 9, 50).members();
        assertThat(two.stream().map(Attack::name).toList()).containsExactly("apgd-ce", "apgd-margin", "fab-t", "square");
        assertThat(((Apgd) two.get(1)).restarts()).isEqualTo(2);
        assertThat(((Fab) two.get(2)).targets()).isEqualTo(1);
        assertThat(((SquareAttack) two.get(3)).queries()).isEqualTo(50);
        assertThat(((SquareAttack) two.get(3)).pInit()).isEqualTo(0.8);
        List<Attack> three = Ensemble.standard(Norm.L2, 0.1, 3, 10, 1, 9, 50).members();
        assertThat(three.stream().map(Attack::name).toList()).containsExactly("apgd-ce", "apgd-t-margin", "fab-t", "square");
        assertThat(((Apgd) three.get(1)).targets()).isEqualTo(9);
        assertThat(((Fab) three.get(2)).targets()).isEqualTo(2);
        assertThat(three.get(3)).isInstanceOf(SquareL2.class);
        assertThat(((SquareL2) three.get(3)).eps()).isEqualTo(0.1);
        List<Attack> untargeted = Ensemble.standard(Norm.LINF, 0.1, 10, 10, 1, 0, 50).members();
        assertThat(untargeted.get(1).name()).isEqualTo("apgd-margin");
        assertThat(((Fab) untargeted.get(2)).targets()).isEqualTo(1);
        Apgd ce = (Apgd) untargeted.get(0);
        assertThat(ce.steps()).isEqualTo(10);
        assertThat(ce.eps()).isEqualTo(0.1);
    }

    private static AttackRegistry.Settings settings(Norm norm, int classes, int targets) {
        return AttackRegistry.Settings.evaluation(norm, 0.25, 7, 2, targets, 40, 11, Pgd.StepSchedule.COSINE, classes);
    }

    @Test
    void registryBuildsEachAttackWithItsBudget() {
        assertThat(AttackRegistry.names()).startsWith("ensemble", "pgd", "fgsm", "apgd-ce", "apgd-dlr", "apgd-t", "square", "ddn", "fab-t");
        assertThat(AttackRegistry.names(Norm.L2)).doesNotContain("fgsm").contains("pgd", "ddn", "square");
        assertThat(AttackRegistry.names(Norm.LINF)).contains("fgsm", "pgd");
        assertThat(AttackRegistry.trainingNames()).containsExactly("pgd", "fgsm");

        Pgd pgd = (Pgd) AttackRegistry.create("PGD", settings(Norm.L2, 10, 0)).members().get(0);
        assertThat(pgd.norm()).isEqualTo(Norm.L2);
        assertThat(pgd.steps()).isEqualTo(7);
        assertThat(pgd.restarts()).isEqualTo(2);
        assertThat(pgd.schedule()).isEqualTo(Pgd.StepSchedule.COSINE);
        assertThat(pgd.stepSize()).isCloseTo(2.5 * 0.25 / 7, within(1e-15));
        assertThat(pgd.randomStart()).isTrue();
        assertThat(AttackRegistry.create("fgsm", settings(Norm.LINF, 10, 0)).members().get(0).name()).isEqualTo("fgsm");
        Apgd dlr = (Apgd) AttackRegistry.create("apgd-dlr", settings(Norm.LINF, 10, 0)).members().get(0);
        assertThat(dlr.loss()).isEqualTo(AttackLoss.DLR);
        assertThat(dlr.restarts()).isEqualTo(2);
        Apgd t = (Apgd) AttackRegistry.create("apgd-t", settings(Norm.LINF, 10, 0)).members().get(0);
        assertThat(t.targets()).isEqualTo(1);
        assertThat(t.loss()).isEqualTo(AttackLoss.DLR);
        assertThat(((Apgd) AttackRegistry.create("apgd-t", settings(Norm.LINF, 3, 5)).members().get(0)).loss()).isEqualTo(AttackLoss.MARGIN);
        assertThat(((Apgd) AttackRegistry.create("apgd-t", settings(Norm.LINF, 3, 5)).members().get(0)).targets()).isEqualTo(5);
        assertThat(((Apgd) AttackRegistry.create("apgd-ce", settings(Norm.L2, 10, 0).withEot(4)).members().get(0)).eot()).isEqualTo(4);
        assertThat(AttackRegistry.create("square", settings(Norm.L2, 10, 0)).members().get(0)).isInstanceOf(SquareL2.class);
        assertThat(((SquareAttack) AttackRegistry.create("square", settings(Norm.LINF, 10, 0)).members().get(0)).queries()).isEqualTo(40);
        assertThat(((Ddn) AttackRegistry.create("ddn", settings(Norm.L2, 10, 0)).members().get(0)).steps()).isEqualTo(11);
        CarliniWagner cw = (CarliniWagner) AttackRegistry.create("cw", settings(Norm.L2, 10, 0)).members().get(0);
        assertThat(cw).isEqualTo(new CarliniWagner(7, 9, 1e-3, 0.01));
        assertThat(cw.name()).isEqualTo("cw");
        CarliniWagner cwt = (CarliniWagner) AttackRegistry.create("cw-t", settings(Norm.L2, 10, 4)).members().get(0);
        assertThat(cwt).isEqualTo(new CarliniWagner(7, 9, 1e-3, 0.01, 0, 4));
        assertThat(cwt.name()).isEqualTo("cw-t");
        assertThat(((CarliniWagner) AttackRegistry.create("cw-t", settings(Norm.L2, 10, 0)).members().get(0)).targets()).isEqualTo(1);
        assertThatThrownBy(() -> AttackRegistry.check("cw-t", Norm.LINF)).hasMessageContaining("cw-t is an ℓ2 attack");
        assertThatThrownBy(() -> AttackRegistry.check("cw", Norm.LINF)).hasMessageContaining("cw is an ℓ2 attack: use --norm l2");
        Fab fab = (Fab) AttackRegistry.create("fab-t", settings(Norm.L2, 4, 9)).members().get(0);
        assertThat(fab.targets()).isEqualTo(3);
        assertThat(fab.restarts()).isEqualTo(2);
        assertThat(((Fab) AttackRegistry.create("fab-t", settings(Norm.L2, 4, 0)).members().get(0)).targets()).isEqualTo(1);
        Ensemble ensemble = AttackRegistry.create("ensemble", settings(Norm.LINF, 10, 3));
        assertThat(ensemble.members()).hasSize(4);
        assertThat(ensemble.eps()).isEqualTo(0.25);
        assertThat(((Apgd) ensemble.members().get(1)).targets()).isEqualTo(3);
    }

    @Test
    void registryTrainingFormsAndErrors() {
        Pgd madry = (Pgd) AttackRegistry.training("pgd", AttackRegistry.Settings.training(Norm.LINF, 0.1, 4, 0, true));
        assertThat(madry.stepSize()).isCloseTo(2.5 * 0.1 / 4, within(1e-15));
        assertThat(madry.randomStart()).isTrue();
        Pgd fixed = (Pgd) AttackRegistry.training("pgd", AttackRegistry.Settings.training(Norm.L2, 0.1, 4, 0.03, false));
        assertThat(fixed.stepSize()).isEqualTo(0.03);
        assertThat(fixed.randomStart()).isFalse();
        assertThat(fixed.norm()).isEqualTo(Norm.L2);
        assertThat(((Pgd) AttackRegistry.training("fgsm", AttackRegistry.Settings.training(Norm.LINF, 0.1, 4, 0, true))).describe())
                .isEqualTo("FGSM(ε 0.1)");
        assertThatThrownBy(() -> AttackRegistry.training("apgd-ce", AttackRegistry.Settings.training(Norm.LINF, 0.1, 4, 0, true)))
                .hasMessageContaining("no adversarial-training form").hasMessageContaining("pgd, fgsm");
        assertThatThrownBy(() -> AttackRegistry.entry("deepfool")).hasMessageContaining("unknown attack 'deepfool'").hasMessageContaining("ensemble, pgd");
        assertThat(AttackRegistry.entry("DDN").name()).isEqualTo("ddn");
        AttackRegistry.check("fgsm", Norm.LINF);
        AttackRegistry.check("pgd", Norm.L2);
        assertThatThrownBy(() -> AttackRegistry.check("fgsm", Norm.L2)).hasMessageContaining("fgsm is an ℓ∞ attack: use --norm linf")
                .hasMessageContaining("or an ℓ2 attack (").hasMessageContaining("ddn");
        assertThatThrownBy(() -> AttackRegistry.register("pgd", List.of(Norm.L2), s -> null, null)).hasMessageContaining("already registered");
        AttackRegistry.Settings s = settings(Norm.L2, 10, 0);
        assertThat(s.eot()).isEqualTo(1);
        assertThat(s.stepSize()).isZero();
        assertThat(s.randomStart()).isTrue();
        assertThat(s.withEot(2).ddnSteps()).isEqualTo(11);
    }
}
