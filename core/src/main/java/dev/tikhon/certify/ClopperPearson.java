package dev.tikhon.certify;

import org.apache.commons.math3.distribution.BetaDistribution;
import org.apache.commons.math3.distribution.NormalDistribution;
import org.apache.commons.math3.special.Beta;

/**
 * The statistics of randomized smoothing (Cohen, Rosenfeld &amp; Kolter 2019): the one-sided
 * Clopper–Pearson lower confidence bound on a binomial proportion, the two-sided binomial test of
 * PREDICT, and the standard normal quantile. Beta quantiles come from Apache Commons Math, solved
 * to 1e-14 (its default, 1e-9, is too loose for the tests that pin these values).
 */
public final class ClopperPearson {
    private static final double INVERSE_ACCURACY = 1e-14;
    private static final NormalDistribution STANDARD_NORMAL = new NormalDistribution(null, 0, 1);

    private ClopperPearson() {}

    /**
     * The one-sided (1 − α) lower confidence bound on p from {@code k} successes in {@code n}
     * trials: the α-quantile of Beta(k, n − k + 1), and 0 when k = 0. For k = n it is α^{1/n}.
     */
    public static double lowerBound(long k, long n, double alpha) {
        if (k < 0 || k > n || n < 1) throw new IllegalArgumentException("need 0 ≤ k ≤ n, n ≥ 1: k " + k + ", n " + n);
        if (!(alpha > 0 && alpha < 1)) throw new IllegalArgumentException("alpha must be in (0, 1), got " + alpha);
        if (k == 0) return 0;
        if (k == n) return Math.pow(alpha, 1.0 / n);   // the Beta(n, 1) quantile in closed form
        return new BetaDistribution(null, k, n - k + 1, INVERSE_ACCURACY).inverseCumulativeProbability(alpha);
    }

    /**
     * Two-sided p-value of the binomial test of H₀: p = ½ with k successes in n trials, as SciPy's
     * {@code binom_test} that the reference implementation calls: the probability of every outcome
     * no likelier than k, which for p = ½ is P(X ≤ n − m) + P(X ≥ m), m = max(k, n − k). The tail
     * P(X ≥ m) = I_{1/2}(m, n − m + 1) (regularized incomplete beta) keeps tiny p-values accurate.
     * (Commons Math's BinomialTest counts ties differently: 0.046 instead of 0.057 for 60 of 100.)
     */
    public static double binomialTestHalf(long k, long n) {
        if (n == 0) return 1;
        long m = Math.max(k, n - k);
        if (2 * m == n) return 1;
        double upper = Beta.regularizedBeta(0.5, m, n - m + 1, 1e-15, Integer.MAX_VALUE);
        return Math.min(1, 2 * upper);
    }

    /** Φ⁻¹(p), the standard normal quantile. */
    public static double normalQuantile(double p) {
        return STANDARD_NORMAL.inverseCumulativeProbability(p);
    }

    /** Φ(z), the standard normal CDF. */
    public static double normalCdf(double z) {
        return STANDARD_NORMAL.cumulativeProbability(z);
    }
}
