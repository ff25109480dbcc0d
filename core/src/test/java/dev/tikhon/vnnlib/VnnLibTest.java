package dev.tikhon.vnnlib;

import dev.tikhon.UserError;
import org.junit.jupiter.api.Test;

import java.math.BigDecimal;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** The VNN-LIB parser: declarations, boxes, or/and normal form, numbers, comments, and a one-line error for each bad input. */
class VnnLibTest {
    private static final String DECL = "(declare-const X_0 Real)\n(declare-const X_1 Real)\n(declare-const Y_0 Real)\n(declare-const Y_1 Real)\n";

    private static VnnLib.Property parse(String body) {
        return VnnLib.parse(DECL + body, "p.vnnlib");
    }

    @Test
    void boundsAndAConjunctionOfOutputConstraints() {
        VnnLib.Property p = parse("; a comment (with parens\n(assert (>= X_0 -0.5)) (assert (<= X_0 1.5e-1)) ; trailing\n"
                + "(assert (and (<= X_1 2) (>= X_1 -1E2)))\n(assert (<= Y_0 Y_1))\n(assert (>= (+ Y_0 (* 2 Y_1) -3) (- 1.5)))\n");
        assertThat(p.inputs()).isEqualTo(2);
        assertThat(p.outputs()).isEqualTo(2);
        assertThat(p.cases()).hasSize(1);
        VnnLib.Case c = p.cases().get(0);
        assertThat(c.lo()).containsExactly(-0.5, -100.0);
        assertThat(c.hi()).containsExactly(0.15, 2.0);
        // (<= Y_0 Y_1): Y_1 − Y_0 ≥ 0; (>= (+ Y_0 2Y_1 −3) −1.5): Y_0 + 2Y_1 − 1.5 ≥ 0
        assertThat(c.constraints()).hasSize(2);
        assertThat(c.constraints().get(0).coefficients()).containsExactly(-1.0, 1.0);
        assertThat(c.constraints().get(0).d()).isEqualByComparingTo("0");
        assertThat(c.constraints().get(1).coefficients()).containsExactly(1.0, 2.0);
        assertThat(c.constraints().get(1).d()).isEqualByComparingTo("-1.5");
        assertThat(c.constraints().get(1).value(new double[]{0.5, 0.5})).isEqualTo(0.0);
    }

    @Test
    void theBoxIsRoundedOutwardForBoundsAndToNearestForCounterexamples() {
        VnnLib.Case c = parse("(assert (>= X_0 0.1)) (assert (<= X_0 0.3)) (assert (>= X_1 0)) (assert (<= (* 3 X_1) 1))\n"
                + "(assert (>= Y_0 Y_1))").cases().get(0);
        assertThat(c.lo()[0]).isEqualTo(0.1);
        assertThat(new BigDecimal(c.loOut()[0])).isLessThanOrEqualTo(new BigDecimal("0.1"));
        assertThat(new BigDecimal(c.hiOut()[0])).isGreaterThanOrEqualTo(new BigDecimal("0.3"));
        assertThat(new BigDecimal(c.hiOut()[1]).multiply(BigDecimal.valueOf(3))).isGreaterThanOrEqualTo(BigDecimal.ONE);   // X_1 ≤ 1/3
        assertThat(c.hiOut()[1]).isCloseTo(1 / 3.0, org.assertj.core.data.Offset.offset(1e-15));
    }

    @Test
    void aDisjunctionOfOutputConjunctionsIsOneCaseEach() {
        VnnLib.Property p = parse("(assert (>= X_0 0)) (assert (<= X_0 1)) (assert (>= X_1 0)) (assert (<= X_1 1))\n"
                + "(assert (or (and (>= Y_0 Y_1) (>= Y_0 0.5)) (<= Y_0 -2)))");
        assertThat(p.cases()).hasSize(2);
        assertThat(p.cases().get(0).constraints()).hasSize(2);
        assertThat(p.cases().get(1).constraints()).hasSize(1);
        assertThat(p.cases().get(1).constraints().get(0).coefficients()).containsExactly(-1.0, 0.0);
        assertThat(p.cases().get(1).constraints().get(0).d()).isEqualByComparingTo("-2");
        assertThat(p.cases().get(1).hi()).containsExactly(1.0, 1.0);
    }

    @Test
    void disjunctsMayGiveTheirOwnInputBoxes() {
        VnnLib.Property p = parse("(assert (or (and (>= X_0 0) (<= X_0 1) (>= X_1 0) (<= X_1 1) (>= Y_0 Y_1))\n"
                + "            (and (>= X_0 2) (<= X_0 3) (>= X_1 -1) (<= X_1 0) (>= Y_1 Y_0))))");
        assertThat(p.cases()).hasSize(2);
        assertThat(p.cases().get(0).lo()).containsExactly(0.0, 0.0);
        assertThat(p.cases().get(1).lo()).containsExactly(2.0, -1.0);
        assertThat(p.cases().get(1).hi()).containsExactly(3.0, 0.0);
        assertThat(p.cases().get(1).constraints().get(0).coefficients()).containsExactly(-1.0, 1.0);
    }

    @Test
    void globalBoundsIntersectADisjunctsBoundsAndAnEmptyBoxIsKept() {
        VnnLib.Property p = parse("(assert (>= X_0 0)) (assert (<= X_0 1)) (assert (>= X_1 0)) (assert (<= X_1 1))\n"
                + "(assert (or (and (>= X_0 0.5) (>= Y_0 0)) (and (>= X_0 2) (>= Y_0 0))))");
        assertThat(p.cases().get(0).lo()).containsExactly(0.5, 0.0);
        assertThat(p.cases().get(0).empty()).isFalse();
        assertThat(p.cases().get(1).empty()).isTrue();
    }

    private static void assertError(String body, String... parts) {
        assertThatThrownBy(() -> parse(body)).isInstanceOf(UserError.class).satisfies(e -> {
            assertThat(e.getMessage()).doesNotContain("\n").startsWith("p.vnnlib:");
            for (String s : parts) assertThat(e.getMessage()).contains(s);
        });
    }

    private static final String BOX = "(assert (>= X_0 0)) (assert (<= X_0 1)) (assert (>= X_1 0)) (assert (<= X_1 1))\n";

    @Test
    void badInputIsAOneLineErrorNamingTheAtom() {
        assertError("(assert (>= X_0 0)) (assert (<= X_0 1)) (assert (>= X_1 0))\n(assert (>= Y_0 Y_1))", "X_1 has no upper bound", "p.vnnlib:2:1");
        assertError(BOX + "(assert (>= (* Y_0 Y_1) 0))", "nonlinear term (* Y_0 Y_1)", "p.vnnlib:6:");
        assertError(BOX + "(assert (>= Y_0 X_0))", "mixes inputs X and outputs Y", "(>= Y_0 X_0)");
        assertError(BOX + "(assert (>= Y_0 Z_3))", "unknown symbol 'Z_3'", "p.vnnlib:6:17");
        assertError(BOX + "(assert (>= (+ X_0 X_1) 0))", "several inputs");
        assertError(BOX + "(assert (> Y_0 Y_1))", "strict comparison");
        assertError(BOX + "(assert (not (>= Y_0 Y_1)))", "unsupported formula 'not'");
        assertError(BOX + "(assert (>= Y_0 Y_1)", "never closed", "p.vnnlib:6:1");
        assertError(BOX + "(assert (>= Y_0 Y_1)))", "unbalanced ')'", "p.vnnlib:6:22");
        assertError(BOX + "(assert (>= (/ Y_0 2) Y_1))", "unsupported operator '/'");
        assertThatThrownBy(() -> VnnLib.parse("(declare-const X_0 Real)(declare-const X_2 Real)(declare-const Y_0 Real)(assert (>= Y_0 0))", "q"))
                .hasMessageContaining("X_1 is not");
        assertThatThrownBy(() -> VnnLib.parse("(declare-const X_0 Int)", "q")).hasMessageContaining("only Real");
    }

    @Test
    void aPropertyForAnotherNetworkIsRefusedWithBothCounts() {
        VnnLib.Property p = parse(BOX + "(assert (>= Y_0 Y_1))");
        assertThatThrownBy(() -> p.checkFits("p.vnnlib", 64, 2, "net.onnx")).isInstanceOf(UserError.class)
                .hasMessageContaining("declares 2 inputs").hasMessageContaining("takes 64");
        assertThatThrownBy(() -> p.checkFits("p.vnnlib", 2, 5, "net.onnx")).hasMessageContaining("declares 2 outputs").hasMessageContaining("returns 5");
        p.checkFits("p.vnnlib", 2, 2, "net.onnx");
        assertThat(List.of(p.cases().get(0).constraints().get(0).exactCoefficients())).containsExactly(true);
    }
}
