package dev.tikhon.generalization;

import dev.tikhon.data.Dataset;
import dev.tikhon.engine.Tensor;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.SplittableRandom;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

/** Oracle: the definition, max over all pairs of |Δy| / ‖Δx‖, by brute force in plain Java doubles. */
class DataLipschitzTest {

    private static double bruteForce(float[][] x, long[] y) {
        double best = 0;
        for (int i = 0; i < x.length; i++) {
            for (int j = i + 1; j < x.length; j++) {
                if (y[i] == y[j]) continue;
                double s = 0;
                for (int k = 0; k < x[i].length; k++) s += ((double) x[i][k] - x[j][k]) * ((double) x[i][k] - x[j][k]);
                if (s > 0) best = Math.max(best, 1 / Math.sqrt(s));
            }
        }
        return best;
    }

    private static Tensor flat(float[][] x) {
        float[] f = new float[x.length * x[0].length];
        for (int i = 0; i < x.length; i++) System.arraycopy(x[i], 0, f, i * x[0].length, x[0].length);
        return Tensor.fromFloats(f, x.length, x[0].length);
    }

    @Test
    void equalsTheBruteForceDefinitionForEveryBlockSize() {
        SplittableRandom r = new SplittableRandom(3);
        for (int trial = 0; trial < 5; trial++) {
            int n = 30 + r.nextInt(60), d = 1 + r.nextInt(20);
            float[][] x = new float[n][d];
            long[] y = new long[n];
            for (int i = 0; i < n; i++) {
                for (int k = 0; k < d; k++) x[i][k] = r.nextInt(256) / 255f;   // pixel-like values
                y[i] = r.nextInt(3);
            }
            double want = bruteForce(x, y);
            for (int block : new int[]{1, 7, n}) {
                DataLipschitz.Result got = DataLipschitz.compute(flat(x), Tensor.fromLongs(y, n), block, false);
                assertThat(got.lipschitz01()).as("trial " + trial + ", block " + block).isCloseTo(want, within(1e-12 * want));
                assertThat(got.lipschitzOneHot()).isCloseTo(Math.sqrt(2) * want, within(1e-12 * want));
                assertThat(got.conflicts()).isZero();
                assertThat(y[got.i()]).isNotEqualTo(y[got.j()]);
            }
        }
    }

    @Test
    void identicalInputsWithDifferentLabelsAreCountedAndSetAside() {
        float[][] x = {{0, 0}, {0, 0}, {3, 4}, {3, 4.5f}, {10, 10}};
        long[] y = {0, 1, 0, 1, 0};
        DataLipschitz.Result r = DataLipschitz.compute(flat(x), Tensor.fromLongs(y, 5), 2, false);
        assertThat(r.conflicts()).isEqualTo(1);
        assertThat(r.minDistance()).isCloseTo(0.5, within(1e-12));   // (3,4)–(3,4.5); the duplicate pair is excluded
        assertThat(List.of(r.i(), r.j())).containsExactly(2, 3);
    }

    @Test
    void aSubsetGivesALowerBound() {
        SplittableRandom r = new SplittableRandom(9);
        int n = 300;
        float[] f = new float[n * 2];
        long[] y = new long[n];
        for (int i = 0; i < n; i++) { f[2 * i] = (float) r.nextDouble(); f[2 * i + 1] = (float) r.nextDouble(); y[i] = r.nextInt(2); }
        Dataset d = new Dataset("pts", "test", Tensor.fromFloats(f, n, 2), Tensor.fromLongs(y, n), 2, List.of("a", "b"));
        DataLipschitz.Result full = DataLipschitz.compute(List.of(d), 0, 1, 64, false);
        DataLipschitz.Result sub = DataLipschitz.compute(List.of(d), 100, 1, 64, false);
        assertThat(sub.subsampled()).isTrue();
        assertThat(full.subsampled()).isFalse();
        assertThat(sub.lipschitz01()).isLessThanOrEqualTo(full.lipschitz01());
    }
}
