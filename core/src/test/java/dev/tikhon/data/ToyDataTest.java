package dev.tikhon.data;

import dev.tikhon.engine.DType;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.FieldSource;

import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

/**
 * Oracles: the closed-form geometry of FFJORD's {@code toy_data.py} definitions (radii, centres,
 * symmetries, squares) checked on large samples, with tolerances of several standard errors.
 */
class ToyDataTest {
    static final List<String> NAMES = ToyData.NAMES;
    private static final int N = 8000;

    /** Per-point (x, y) and label of a generated set. */
    private record Pts(float[] xy, long[] y) {
        static Pts of(Dataset d) { return new Pts(d.inputs().toFloatArray(), d.labels().toLongArray()); }

        double x(int i) { return xy[2 * i]; }

        double yy(int i) { return xy[2 * i + 1]; }

        double r(int i) { return Math.hypot(x(i), yy(i)); }

        /** Mean of f over the points of class c. */
        double mean(int c, java.util.function.IntToDoubleFunction f) {
            double s = 0;
            int n = 0;
            for (int i = 0; i < y.length; i++) {
                if (y[i] == c) {
                    s += f.applyAsDouble(i);
                    n++;
                }
            }
            return s / n;
        }
    }

    @ParameterizedTest
    @FieldSource("NAMES")
    void deterministicShapedFiniteAndLabelled(String name) {
        Dataset a = ToyData.generate(name, 1001, 5);
        Dataset b = ToyData.generate(name, 1001, 5);
        Dataset c = ToyData.generate(name, 1001, 6);
        assertThat(a.inputs().dtype()).isEqualTo(DType.FLOAT32);
        assertThat(a.inputs().shape()).containsExactly(1001, 2);
        assertThat(a.inputs().allFinite()).isTrue();
        assertThat(a.inputs().toFloatArray()).containsExactly(b.inputs().toFloatArray());
        assertThat(a.labels().toLongArray()).containsExactly(b.labels().toLongArray());
        assertThat(a.inputs().toFloatArray()).isNotEqualTo(c.inputs().toFloatArray());
        assertThat(a.classNames()).hasSize(a.numClasses());
        assertThat(a.classCounts()).doesNotContain(0L);
        assertThat(a.name()).isEqualTo(name);
        assertThat(a.source()).contains("seed 5");
        // shuffled: the first tenth already holds every class
        assertThat(a.head(100).classCounts()).doesNotContain(0L);
    }

    @Test
    void numbersOfClasses() {
        int[] expected = {4, 2, 4, 2, 8, 5, 2, 8};
        for (int i = 0; i < NAMES.size(); i++) {
            assertThat(ToyData.generate(NAMES.get(i), 10, 0).numClasses()).as(NAMES.get(i)).isEqualTo(expected[i]);
        }
    }

    @Test
    void circlesHaveRadiiThreeAndOneAndAHalf() {
        Pts p = Pts.of(ToyData.generate("circles", N, 1));
        assertThat(p.mean(0, p::r)).isCloseTo(3.0, within(0.05));
        assertThat(p.mean(1, p::r)).isCloseTo(1.5, within(0.05));
    }

    @Test
    void ringsHaveFourRadii() {
        Pts p = Pts.of(ToyData.generate("rings", N, 2));
        for (int k = 0; k < 4; k++) assertThat(p.mean(k, p::r)).as("ring " + k).isCloseTo(0.75 * (k + 1), within(0.02));
    }

    @Test
    void moonsMeansFollowTheHalfCircles() {
        // upper moon: (cos, sin) on [0, π] -> mean (0, 2/π); lower: (1 - cos, 1/2 - sin); then *2 + (-1, -0.2)
        Pts p = Pts.of(ToyData.generate("moons", N, 3));
        assertThat(p.mean(0, p::x)).isCloseTo(-1, within(0.03));
        assertThat(p.mean(0, p::yy)).isCloseTo(4 / Math.PI - 0.2, within(0.03));
        assertThat(p.mean(1, p::x)).isCloseTo(1, within(0.03));
        assertThat(p.mean(1, p::yy)).isCloseTo(2 * (0.5 - 2 / Math.PI) - 0.2, within(0.03));
    }

    @Test
    void eightGaussiansSitAtTheCompassPoints() {
        Pts p = Pts.of(ToyData.generate("8gaussians", N, 4));
        double d = 1 / Math.sqrt(2);
        double[][] centres = {{1, 0}, {-1, 0}, {0, 1}, {0, -1}, {d, d}, {d, -d}, {-d, d}, {-d, -d}};
        for (int c = 0; c < 8; c++) {
            double cx = 4 * centres[c][0] / 1.414;
            double cy = 4 * centres[c][1] / 1.414;
            assertThat(p.mean(c, p::x)).as("centre " + c).isCloseTo(cx, within(0.05));
            assertThat(p.mean(c, p::yy)).as("centre " + c).isCloseTo(cy, within(0.05));
            double var = p.mean(c, i -> Math.pow(p.x(i) - cx, 2));
            assertThat(Math.sqrt(var)).isCloseTo(0.5 / 1.414, within(0.03));
        }
    }

    @Test
    void pinwheelArmsAreRotationsOfEachOther() {
        Pts p = Pts.of(ToyData.generate("pinwheel", 10000, 5));
        assertThat(Pts.of(ToyData.generate("pinwheel", 10000, 5)).y).containsOnly(0L, 1L, 2L, 3L, 4L);
        double mx = p.mean(0, p::x);
        double my = p.mean(0, p::yy);
        for (int arm = 1; arm < 5; arm++) {
            double a = 2 * Math.PI * arm / 5;   // arm k is arm 0 turned clockwise by 2πk/5: turn it back
            double rx = p.mean(arm, i -> Math.cos(a) * p.x(i) - Math.sin(a) * p.yy(i));
            double ry = p.mean(arm, i -> Math.sin(a) * p.x(i) + Math.cos(a) * p.yy(i));
            assertThat(rx).as("arm " + arm).isCloseTo(mx, within(0.05));
            assertThat(ry).as("arm " + arm).isCloseTo(my, within(0.05));
        }
        assertThat(p.mean(0, p::r)).isCloseTo(2 * 1.0, within(0.1));
    }

    @Test
    void twoSpiralsAreEachOthersPointReflection() {
        Pts p = Pts.of(ToyData.generate("2spirals", N, 6));
        assertThat(p.mean(0, p::x) + p.mean(1, p::x)).isCloseTo(0, within(0.05));
        assertThat(p.mean(0, p::yy) + p.mean(1, p::yy)).isCloseTo(0, within(0.05));
        assertThat(p.mean(0, p::yy)).isGreaterThan(0.5);   // E[(sin(t)·t + U/2)/3] ≈ 0.72: off the origin
        double maxRadius = (3 * Math.PI + 0.5 * Math.sqrt(2)) / 3;
        for (int i = 0; i < N; i++) assertThat(p.r(i)).isLessThan(maxRadius + 0.6);
    }

    @Test
    void checkerboardPointsLieInTheirSquares() {
        Pts p = Pts.of(ToyData.generate("checkerboard", N, 7));
        for (int i = 0; i < N; i++) {
            int col = (int) (p.y[i] / 2);
            int row = (int) (p.y[i] % 2);
            double x1 = p.x(i) / 2;
            double x2 = p.yy(i) / 2;
            double bottom = (row == 0 ? -2 : 0) + col % 2;
            assertThat(x1).isBetween(col - 2 - 1e-6, col - 1 + 1e-6);
            assertThat(x2).isBetween(bottom - 1e-6, bottom + 1 + 1e-6);
        }
        Dataset d = ToyData.generate("checkerboard", N, 7);
        for (long count : d.classCounts()) assertThat(count).isBetween(N / 8L - 150, N / 8L + 150);
    }

    @Test
    void swissrollQuartersLieFurtherOutAlongTheRoll() {
        Pts p = Pts.of(ToyData.generate("swissroll", N, 8));
        for (int k = 0; k < 4; k++) {
            double t = 1.5 * Math.PI + 3 * Math.PI * (k + 0.5) / 4;   // the quarter's middle parameter
            assertThat(p.mean(k, p::r)).as("quarter " + k).isCloseTo(t / 5, within(0.05));
        }
    }

    @Test
    void unknownNameListsTheValidOnes() {
        assertThatThrownBy(() -> ToyData.generate("spiral", 10, 0)).isInstanceOf(DataException.class)
                .hasMessage("unknown toy data set 'spiral': use one of swissroll, circles, rings, moons, 8gaussians, "
                        + "pinwheel, 2spirals, checkerboard");
    }
}
