package dev.tikhon.attack;

import dev.tikhon.engine.Rng;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The standard ensemble is AutoAttack's (APGD-CE, APGD-T, FAB-T, Square) in both norms, and its per-member
 * accounting is consistent: with every member on every point, a point counts as broken exactly when some member broke
 * it, "first broken by" counts each broken point once, and the distance kept is the smallest any member found.
 */
class EnsembleMembersTest {

    @Test
    void standardMembersAreAutoAttacksInBothNorms() {
        for (Norm norm : Norm.values()) {
            Ensemble e = Ensemble.standard(norm, 0.1, 10, 100, 1, 9, 5000);
            assertThat(e.members().stream().map(Attack::name).toList()).containsExactly("apgd-ce", "apgd-t-dlr", "fab-t", "square");
            assertThat(e.members().get(3).norm()).isEqualTo(norm);
            assertThat(((Fab) e.members().get(2)).targets()).isEqualTo(9);
        }
    }

    @Test
    void everyMemberAccountingIsConsistent() {
        FabSquareL2Test.Fixture f = FabSquareL2Test.Fixture.make(21);
        for (Norm norm : Norm.values()) {
            double[] exact = f.exact(norm);
            double eps = median(exact);
            Rng.seed(4);
            Ensemble e = new Ensemble(norm, eps, List.of(new Apgd(norm, eps, 20, AttackLoss.CE, 1), Fab.standard(norm, eps, 3),
                    Ensemble.square(norm, eps, 300)));
            Ensemble.Outcome o = e.run(f.model(), f.x(), f.y(), true);
            int firsts = 0;
            for (int c : o.firstBrokenBy()) firsts += c;
            assertThat(firsts).isEqualTo(o.result().successes());
            for (int i = 0; i < FabSquareL2Test.N; i++) {
                boolean any = false;
                for (boolean[] m : o.broke()) any |= m[i];
                assertThat(o.result().success()[i]).as("%s point %d", norm, i).isEqualTo(any);
                if (o.result().success()[i]) {
                    assertThat(o.result().distance()[i]).isBetween(exact[i] * (1 - 1e-9), eps * (1 + 1e-6));
                    assertThat(o.foundBy()[i]).isIn("apgd-ce", "fab-t", "square");
                }
                if (exact[i] < 0.97 * eps) assertThat(o.broke()[1][i]).as("FAB-T breaks %s point %d, d* %.4f < ε %.4f", norm, i, exact[i], eps).isTrue();
            }
        }
    }

    private static double median(double[] v) {
        double[] s = v.clone();
        java.util.Arrays.sort(s);
        return s[s.length / 2];
    }
}
