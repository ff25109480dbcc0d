package dev.tikhon.bounds;

import dev.tikhon.engine.Scope;
import dev.tikhon.engine.Tensor;

import java.util.function.UnaryOperator;

/**
 * The largest eigenvalue of a symmetric operator known only through products Hv, for a batch of
 * independent operators at once (one per example): k steps of Lanczos with full reorthogonalization,
 * then the largest eigenvalue of each k×k tridiagonal matrix by Sturm-sequence bisection. Ritz values
 * lie inside the spectrum, so the estimate approaches λ_max from below as k grows; with k equal to
 * the dimension it is exact (up to rounding).
 */
public final class Lanczos {
    private Lanczos() {}

    /**
     * @param hvp        maps a batch of vectors v [N, D] to the batch of products Hᵢvᵢ [N, D]
     * @param like       a tensor [N, D] giving batch size, dimension, dtype and device
     * @param iterations Lanczos steps k (capped at D)
     * @return λ_max per example
     */
    public static double[] largestEigenvalues(UnaryOperator<Tensor> hvp, Tensor like, int iterations) {
        long n = like.size(0), dim = like.size(1);
        int k = (int) Math.min(iterations, dim);
        Tensor basis = Tensor.zeros(like.dtype(), like.device(), k + 1, n, dim);
        Tensor start = like.randnLike();
        basis.select(0, 0).copy_(start.div(start.normPerExample(2).unsqueeze(1)));
        double[][] alpha = new double[(int) n][k], beta = new double[(int) n][k];
        int[] length = new int[(int) n];
        java.util.Arrays.fill(length, k);
        for (int j = 0; j < k; j++) {
            try (Scope it = Scope.open()) {
                Tensor v = basis.select(0, j);
                Tensor w = hvp.apply(v).detach();
                Tensor a = w.mul(v).sum(1, false);
                // Full reorthogonalization (twice is enough, Kahan–Parlett) against every earlier vector.
                for (int pass = 0; pass < 2; pass++) {
                    Tensor previous = basis.narrow(0, 0, j + 1);                       // [j+1, N, D]
                    Tensor coeff = previous.mul(w.unsqueeze(0)).sum(2, true);          // [j+1, N, 1]
                    w = w.sub(previous.mul(coeff).sum(0, false));
                }
                Tensor b = w.normPerExample(2);
                double[] aj = a.toDoubleArray(), bj = b.toDoubleArray();
                for (int i = 0; i < n; i++) {
                    if (j >= length[i]) continue;
                    alpha[i][j] = aj[i];
                    beta[i][j] = bj[i];
                    // An invariant subspace was found: the tridiagonal matrix so far already holds the eigenvalues.
                    if (bj[i] <= 1e-10 * Math.max(1, Math.abs(aj[i]))) length[i] = j + 1;
                }
                basis.select(0, j + 1).copy_(w.div(b.clampMin(1e-30).unsqueeze(1)));
            }
        }
        double[] out = new double[(int) n];
        for (int i = 0; i < n; i++) out[i] = largestTridiagonal(alpha[i], beta[i], length[i]);
        return out;
    }

    /** Largest eigenvalue of the symmetric tridiagonal matrix with diagonal a[0..m) and off-diagonal b[0..m−1). */
    static double largestTridiagonal(double[] a, double[] b, int m) {
        double lo = Double.POSITIVE_INFINITY, hi = Double.NEGATIVE_INFINITY;
        for (int i = 0; i < m; i++) {   // Gershgorin discs
            double r = (i > 0 ? Math.abs(b[i - 1]) : 0) + (i < m - 1 ? Math.abs(b[i]) : 0);
            lo = Math.min(lo, a[i] - r);
            hi = Math.max(hi, a[i] + r);
        }
        double pad = 1e-12 * Math.max(1, Math.max(Math.abs(lo), Math.abs(hi)));
        lo -= pad;
        hi += pad;
        for (int it = 0; it < 200 && hi - lo > 1e-15 * Math.max(1, Math.abs(hi)); it++) {
            double mid = 0.5 * (lo + hi);
            if (countBelow(a, b, m, mid) == m) hi = mid; else lo = mid;
        }
        return 0.5 * (lo + hi);
    }

    /** Number of eigenvalues below λ: negative pivots of the LDLᵀ factorization of T − λI (Sturm). */
    static int countBelow(double[] a, double[] b, int m, double lambda) {
        int count = 0;
        double d = 1;
        for (int i = 0; i < m; i++) {
            double off = i > 0 ? b[i - 1] * b[i - 1] : 0;
            d = a[i] - lambda - (i > 0 ? off / d : 0);
            if (d == 0) d = -1e-300;
            if (d < 0) count++;
        }
        return count;
    }
}
