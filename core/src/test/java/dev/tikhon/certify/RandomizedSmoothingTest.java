package dev.tikhon.certify;

import dev.tikhon.engine.DType;
import dev.tikhon.engine.Device;
import dev.tikhon.engine.OneThread;
import dev.tikhon.engine.Tensor;
import dev.tikhon.nn.Module;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

/**
 * Oracles: Clopper–Pearson bounds and binomial p-values tabulated with SciPy 1.17 (scipy.stats.beta.ppf,
 * scipy.stats.binomtest), computed independently of Commons Math; and the closed form of docs/methods.md §4 for a
 * linear binary classifier, whose smoothed classifier is itself with exact radius |wᵀx + b| / ‖w‖.
 */
@ExtendWith(OneThread.class)
class RandomizedSmoothingTest {


    /**
     * {k, n, α, Beta(α; k, n − k + 1)} from
     * {@code python3 -c "from scipy.stats import beta; print(repr(beta.ppf(a, k, n-k+1)))"}.
     */
    private static final double[][] CLOPPER_PEARSON = {
            {1, 10, 0.05, 0.005116196891823701},
            {5, 10, 0.05, 0.2224411010081294},
            {9, 10, 0.001, 0.37627691091117454},
            {50, 100, 0.001, 0.34479800642531777},
            {99, 100, 0.001, 0.9113731112960424},
            {990, 1000, 0.001, 0.9760361871553114},
            {8413, 10000, 0.001, 0.8297301426476399},
            {84134, 100000, 0.001, 0.8377417924016124},
            {99990, 100000, 0.001, 0.9997586773435911},
            {3, 7, 0.2, 0.2283264643498392},
            {60000, 100000, 1e-5, 0.5933756984509084},
    };

    @Test
    void clopperPearsonMatchesScipyTo1e9() {
        for (double[] c : CLOPPER_PEARSON) {
            assertThat(ClopperPearson.lowerBound((long) c[0], (long) c[1], c[2]))
                    .as("k %d, n %d, α %g", (long) c[0], (long) c[1], c[2]).isCloseTo(c[3], within(1e-9));
        }
        assertThat(ClopperPearson.lowerBound(0, 100, 0.001)).isZero();
        assertThat(ClopperPearson.lowerBound(100, 100, 0.001)).isCloseTo(Math.pow(0.001, 0.01), within(1e-15));
    }

    @Test
    void binomialTestAndNormalQuantileMatchScipy() {
        // scipy.stats.binomtest(k, n, 0.5).pvalue
        assertThat(ClopperPearson.binomialTestHalf(60, 100)).isCloseTo(0.05688793364098089, within(1e-12));
        assertThat(ClopperPearson.binomialTestHalf(55, 100)).isCloseTo(0.36820161732669615, within(1e-12));
        assertThat(ClopperPearson.binomialTestHalf(70, 100)).isCloseTo(7.85013964559367e-05, within(1e-15));
        assertThat(ClopperPearson.binomialTestHalf(7, 10)).isCloseTo(0.34375, within(1e-14));
        assertThat(ClopperPearson.normalQuantile(0.975)).isCloseTo(1.959963984540054, within(1e-12));
        assertThat(ClopperPearson.normalQuantile(0.999)).isCloseTo(3.090232306167813, within(1e-12));
    }

    /** f(x) = sign(wᵀx + b) as two logits [0, wᵀx + b]. */
    static final class LinearBinary extends Module {
        final Tensor w;
        final double b;

        LinearBinary(double[] w, double b) {
            this.w = Tensor.fromDoubles(w, w.length, 1).to(DType.FLOAT32);
            this.b = b;
        }

        @Override public Tensor forward(Tensor x) {
            Tensor z = x.flatten(1, -1).matmul(w).add(b);
            return Tensor.cat(List.of(z.zerosLike(), z), 1);
        }

        double margin(double[] x) {
            float[] wf = w.toFloatArray();
            double s = b, n = 0;
            for (int i = 0; i < x.length; i++) {
                s += wf[i] * x[i];
                n += (double) wf[i] * wf[i];
            }
            return s / Math.sqrt(n);
        }
    }

    private static final int D = 10;

    private static LinearBinary model() {
        SplittableRandom r = new SplittableRandom(7);
        double[] w = new double[D];
        for (int i = 0; i < D; i++) w[i] = r.nextGaussian();
        return new LinearBinary(w, 0.3);
    }

    /** A point at signed distance {@code dist} from the hyperplane (positive: class 1). */
    private static double[] pointAt(LinearBinary m, double dist) {
        float[] wf = m.w.toFloatArray();
        double n = 0;
        for (float v : wf) n += (double) v * v;
        n = Math.sqrt(n);
        double[] x = new double[D];
        // x = (dist − b/‖w‖) · w/‖w‖ gives wᵀx + b = dist·‖w‖
        for (int i = 0; i < D; i++) x[i] = (dist - m.b / n) * wf[i] / n;
        return x;
    }

    private static Tensor tensor(double[] x) {
        return Tensor.fromDoubles(x, x.length).to(DType.FLOAT32);
    }

    @Test
    void linearClassifierRadiusApproachesExactFromBelowAndNeverExceedsItOrTheCap() {
        LinearBinary m = model();
        double sigma = 0.5;
        for (double exact : new double[]{0.25, 0.5, 0.9}) {
            double[] x = pointAt(m, exact);
            assertThat(m.margin(x)).isCloseTo(exact, within(1e-5));
            double firstGap = Double.NaN, previousGap = Double.NaN;
            for (int n : new int[]{100, 1_000, 10_000, 100_000}) {
                RandomizedSmoothing rs = new RandomizedSmoothing(new RandomizedSmoothing.Config(sigma, 100, n, 0.001, 1000, 11));
                Certificate c = rs.certify(m, tensor(x), 0);
                double r = c.abstained() ? 0 : c.radius();
                if (!c.abstained()) assertThat(c.prediction()).isEqualTo(1);
                assertThat(r).as("exact %.2f, N %d", exact, n).isLessThanOrEqualTo(exact + 1e-6).isLessThanOrEqualTo(rs.maxRadius() + 1e-12);
                double gap = exact - r;
                if (n == 100_000 && previousGap < exact) assertThat(gap).as("gap shrinks from N 10⁴ to 10⁵").isLessThan(previousGap);
                if (Double.isNaN(firstGap)) firstGap = gap;
                previousGap = gap;
            }
            assertThat(previousGap).isLessThan(firstGap);
            assertThat(previousGap).as("at N = 100 000 the bound is within 0.02 of the exact radius %.2f", exact).isLessThan(0.02);
        }
    }

    @Test
    void farFromTheBoundaryTheRadiusIsTheCap() {
        LinearBinary m = model();
        RandomizedSmoothing rs = new RandomizedSmoothing(new RandomizedSmoothing.Config(0.25, 100, 1000, 0.001, 500, 1));
        Certificate c = rs.certify(m, tensor(pointAt(m, -5.0)), 0);
        assertThat(c.prediction()).isEqualTo(0);
        assertThat(c.radius()).isCloseTo(0.25 * ClopperPearson.normalQuantile(Math.pow(0.001, 1.0 / 1000)), within(1e-12));
        assertThat(c.radius()).isEqualTo(rs.maxRadius());
        assertThat(c.kind()).isEqualTo(Certificate.Kind.PROBABILISTIC);
    }

    @Test
    void countsDependOnlyOnSeedIndexAndSampleNumberNotOnBatching() {
        LinearBinary m = model();
        Tensor x = tensor(pointAt(m, 0.05));
        RandomizedSmoothing.Config base = new RandomizedSmoothing.Config(0.5, 100, 2000, 0.001, 1000, 3);
        long[] a = new RandomizedSmoothing(base).counts(m, x, 17, RandomizedSmoothing.PHASE_ESTIMATE, 2000);
        long[] b = new RandomizedSmoothing(base.withBatchSize(64)).counts(m, x, 17, RandomizedSmoothing.PHASE_ESTIMATE, 2000);
        long[] c = new RandomizedSmoothing(base.withBatchSize(7)).counts(m, x, 17, RandomizedSmoothing.PHASE_ESTIMATE, 2000);
        assertThat(b).isEqualTo(a);
        assertThat(c).isEqualTo(a);
        // another image index or seed draws other noise
        long[] other = new RandomizedSmoothing(base).counts(m, x, 18, RandomizedSmoothing.PHASE_ESTIMATE, 2000);
        long[] reseeded = new RandomizedSmoothing(base.withSeed(4)).counts(m, x, 17, RandomizedSmoothing.PHASE_ESTIMATE, 2000);
        assertThat(other).isNotEqualTo(a);
        assertThat(reseeded).isNotEqualTo(a);
        // the noise itself: samples 30..129 are the same whether drawn alone or inside a larger batch
        Tensor whole = GaussianNoise.samples(5, 2, 1, 0, 200, new long[]{3}, DType.FLOAT32, Device.CPU);
        Tensor part = GaussianNoise.samples(5, 2, 1, 30, 100, new long[]{3}, DType.FLOAT32, Device.CPU);
        assertThat(part.toFloatArray()).isEqualTo(whole.narrow(0, 30, 100).toFloatArray());
    }

    /**
     * Several images whose noisy copies share forward passes get exactly the counts and certificates they get one at a
     * time: the same noise streams, and the model's output for a copy does not depend on its neighbours in the batch.
     * A small CNN with 10 classes and large σ, so that the counts spread over classes; 7 images in groups of 3 (the last
     * group short), a noise batch that cuts blocks, both CERTIFY and the estimation with ĉ given.
     */
    @Test
    void imagesSharingForwardPassesGetTheCountsTheyGetAlone() {
        dev.tikhon.engine.Rng.seed(3);
        Module cnn = dev.tikhon.models.Models.build(dev.tikhon.models.Models.spec("cnn", List.of(1L, 28L, 28L), 10, java.util.Map.of()));
        Tensor xs = Tensor.rand(7, 1, 28, 28);
        long[] indices = {4, 9, 10, 11, 30, 31, 100};
        RandomizedSmoothing.Config alone = new RandomizedSmoothing.Config(1.0, 40, 300, 0.001, 70, 5);
        RandomizedSmoothing one = new RandomizedSmoothing(alone), packed = new RandomizedSmoothing(alone.withImagesPerBatch(3));
        long[][] together = packed.counts(cnn, xs, indices, RandomizedSmoothing.PHASE_ESTIMATE, 300);
        int[] cHat = new int[indices.length];
        int spread = 0;
        for (int i = 0; i < indices.length; i++) {
            long[] a = one.counts(cnn, xs.select(0, i), indices[i], RandomizedSmoothing.PHASE_ESTIMATE, 300);
            assertThat(together[i]).as("image %d", indices[i]).isEqualTo(a);
            assertThat(java.util.Arrays.stream(a).sum()).isEqualTo(300);
            for (long c : a) if (c > 0 && c < 300) spread++;
            cHat[i] = RandomizedSmoothing.argmax(a);
        }
        assertThat(spread).as("counts spread over classes: the comparison is not of constant predictions").isGreaterThan(7);
        List<RandomizedSmoothing.Estimate> certified = packed.certifyWithCounts(cnn, xs, indices);
        List<RandomizedSmoothing.Estimate> fixed = packed.certifyClasses(cnn, xs, indices, cHat);
        for (int i = 0; i < indices.length; i++) {
            RandomizedSmoothing.Estimate e = one.certifyWithCounts(cnn, xs.select(0, i), indices[i]);
            assertThat(certified.get(i).counts()).isEqualTo(e.counts());
            assertThat(certified.get(i).certificate()).isEqualTo(e.certificate());
            assertThat(fixed.get(i).certificate()).isEqualTo(one.certifyClass(cnn, xs.select(0, i), indices[i], cHat[i]).certificate());
        }
    }

    @Test
    void noiseIsTheDocumentedStreamOfSeededBlocks() {
        // The definition in GaussianNoise's comment, drawn the plain way: block b is randn(BLOCK, shape) from a
        // generator seeded with derive(seed, index, phase, b). Certificates of earlier versions used exactly this.
        long[] shape = {1, 28, 28};
        int blocks = 5;
        List<Tensor> reference = new ArrayList<>();
        for (int b = 0; b < blocks; b++) {
            dev.tikhon.engine.Rng.seed(dev.tikhon.engine.Rng.derive(9, 4, 0, b));
            reference.add(Tensor.randn(DType.FLOAT32, Device.CPU, GaussianNoise.BLOCK, 1, 28, 28));
        }
        float[] expected = Tensor.cat(reference, 0).toFloatArray();
        int n = GaussianNoise.BLOCK * blocks;
        assertThat(GaussianNoise.samples(9, 4, 0, 0, n, shape, DType.FLOAT32, Device.CPU).toFloatArray()).isEqualTo(expected);
        // slices that start and end inside blocks
        int from = 17, count = 3 * GaussianNoise.BLOCK + 11;
        float[] slice = GaussianNoise.samples(9, 4, 0, from, count, shape, DType.FLOAT32, Device.CPU).toFloatArray();
        int per = 28 * 28;
        assertThat(slice).isEqualTo(java.util.Arrays.copyOfRange(expected, from * per, (from + count) * per));
    }

    /**
     * Cohen et al.'s Algorithm 1 returns ĉ only if p_A > ½ (their Theorem 1 needs p_A > p_B): at p_A = ½ another class may
     * hold the other half, g(x) may not be ĉ, and "ĉ at radius σΦ⁻¹(½) = 0" would count as certified at r = 0. p_A is
     * exactly ½ when every sample is ĉ and α^{1/N} = ½: N = 1, α = ½ and N = 2, α = ¼.
     */
    @Test
    void aLowerBoundOfExactlyOneHalfAbstains() {
        LinearBinary m = model();
        double[] far = pointAt(m, -5.0);   // every noisy copy is class 0
        for (double[] nAlpha : new double[][]{{1, 0.5}, {2, 0.25}}) {
            RandomizedSmoothing rs = new RandomizedSmoothing(new RandomizedSmoothing.Config(0.25, 1, (int) nAlpha[0], nAlpha[1], 10, 3));
            RandomizedSmoothing.Estimate e = rs.certifyWithCounts(m, tensor(far), 0);
            assertThat(e.counts()[0]).isEqualTo((long) nAlpha[0]);
            assertThat(e.pLower()).isEqualTo(0.5);
            assertThat(e.certificate().abstained()).as("N %d, α %s", (int) nAlpha[0], nAlpha[1]).isTrue();
            assertThat(e.certificate().certifies(0, 0)).isFalse();
        }
        // just above ½ (N = 1: p_A = α = 0.51) it answers, with a radius just above 0
        RandomizedSmoothing rs = new RandomizedSmoothing(new RandomizedSmoothing.Config(0.25, 1, 1, 0.51, 10, 3));
        Certificate c = rs.certify(m, tensor(far), 0);
        assertThat(c.prediction()).isEqualTo(0);
        assertThat(c.radius()).isCloseTo(0.25 * ClopperPearson.normalQuantile(0.51), within(1e-12)).isGreaterThan(0);
    }

    @Test
    void predictAbstainsOnTheBoundaryAndAnswersFarFromIt() {
        LinearBinary m = model();
        RandomizedSmoothing rs = new RandomizedSmoothing(new RandomizedSmoothing.Config(0.5, 100, 10_000, 0.001, 1000, 5));
        RandomizedSmoothing.Prediction onBoundary = rs.predict(m, tensor(pointAt(m, 0.0)), 0);
        assertThat(onBoundary.abstained()).isTrue();
        assertThat(onBoundary.pValue()).isGreaterThan(0.001);
        RandomizedSmoothing.Prediction far = rs.predict(m, tensor(pointAt(m, 0.3)), 1);
        assertThat(far.prediction()).isEqualTo(1);
        assertThat(far.pValue()).isLessThan(1e-10);
    }
}
