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

    /**
     * A block too large for the machine's memory is cut to what fits a quarter of it, with a note, and the result is the
     * brute force's still (an oversized --block-size used to ask libtorch for all of it: 60,000 rows of 70,000 points
     * are about 50 GB).
     */
    @Test
    void aBlockTooLargeForTheMemoryIsCutAndTheResultStaysExact() {
        SplittableRandom r = new SplittableRandom(5);
        int n = 50, d = 6;
        float[][] x = new float[n][d];
        long[] y = new long[n];
        for (int i = 0; i < n; i++) {
            for (int k = 0; k < d; k++) x[i][k] = r.nextInt(256) / 255f;
            y[i] = r.nextInt(2);
        }
        long memory = 4 * DataLipschitz.blockBytes(7, n);   // a machine where 7 rows of 50 points are a quarter of the memory
        assertThat(DataLipschitz.fittingBlock(n, memory)).isEqualTo(7);
        assertThat(DataLipschitz.fittingBlock(70_000, 64L << 30)).isEqualTo(20_452);   // 64 GiB / 4 / (12 bytes × 70,000)
        assertThat(DataLipschitz.fittingBlock(n, 0)).as("memory not known: no cap").isEqualTo(Integer.MAX_VALUE);
        assertThat(DataLipschitz.fittingBlock(1L << 40, 1)).as("at least one row").isEqualTo(1);
        assertThat(DataLipschitz.physicalMemory()).isPositive();
        java.io.PrintStream err = System.err;
        java.io.ByteArrayOutputStream captured = new java.io.ByteArrayOutputStream();
        DataLipschitz.Result got;
        System.setErr(new java.io.PrintStream(captured, true, java.nio.charset.StandardCharsets.UTF_8));
        try {
            got = DataLipschitz.compute(flat(x), Tensor.fromLongs(y, n), 1_000_000, false, memory);
        } finally {
            System.setErr(err);
        }
        assertThat(got.lipschitz01()).isCloseTo(bruteForce(x, y), within(1e-12 * bruteForce(x, y)));
        assertThat(captured.toString(java.nio.charset.StandardCharsets.UTF_8))
                .contains("--block-size 1000000 cut to 7: blocks of 50 rows of 50 points").contains("the result is the same");
        captured.reset();
        System.setErr(new java.io.PrintStream(captured, true, java.nio.charset.StandardCharsets.UTF_8));
        try {
            DataLipschitz.compute(flat(x), Tensor.fromLongs(y, n), 7, false, memory);
        } finally {
            System.setErr(err);
        }
        assertThat(captured.toString(java.nio.charset.StandardCharsets.UTF_8)).as("a block that fits: no note").isEmpty();
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
